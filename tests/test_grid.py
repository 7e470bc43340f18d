"""Grid matters (网格事项): a category handled by grid cells' groups; grid workers report fast, credited."""

import re
from datetime import date

from sqlalchemy import select

from bot.app import make_bind_code
from emulator.images import jpeg
from storage.models import Case, Event
from ui.summary import summary_body

GRID, STREET = "温泉街道01网格", "温泉街道"


async def answer_of(d, q):
    await d.emu.wait_for(lambda: q in d.emu.callback_answers)
    return d.emu.callback_answers[q].get("text")


def photos(emu, chat):
    return [m for m in emu.messages(chat) if m.get("photo")]


async def test_a_grid_category_goes_to_the_grid_group_which_handles_it(district):
    d, emu = district, district.emu
    grid_chat, street_chat = d.grid_chat(GRID), d.street_chat(STREET)
    lat, lon = d.core.grids.representative_point(GRID)
    assert d.core.streets.locate(lat, lon).street == STREET

    # street vending (route_to: grid) inside a grid cell with a group: the grid group gets the card
    citizen = d.citizen(8101)
    receipt = await d.report(citizen, jpeg(label="stall"), lat, lon, category="占道经营", note="人行道摆摊")
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    card = await d.wait_button(grid_chat, "接单")
    assert number in card["caption"] and f"网格: {GRID}" in card["caption"] and "街镇: 温泉街道" in card["caption"]
    assert not photos(emu, street_chat), "the street's group is not bothered with a grid matter"

    # the street's handler is no member of the grid group: the tap is refused
    q = await emu.tap(d.handler_of(STREET), grid_chat, card["message_id"],
                      card["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert await answer_of(d, q) == "只有本案属地群的成员可以操作。"
    # its respond deadline nags the grid group, not the street's
    d.clock.advance(minutes=10, seconds=1)
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    assert await d.wait_text(grid_chat, "已超时")
    assert not any("已超时" in (m.get("text") or "") for m in emu.messages(street_chat))
    # a grid worker accepts and resolves with an after photo
    worker = d.staff[grid_chat][0]
    q = await d.tap_last(worker, grid_chat, "接单")
    assert await answer_of(d, q) == "接单成功，您是经办人。"
    assert await d.wait_text(citizen.id, f"已由{GRID}接单处理")
    await d.wait_button(grid_chat, "办结")
    await emu.send_photo_reply(worker, grid_chat, jpeg(label="clear", color=(90, 140, 90)), caption="摊位已劝离",
                               reply_to_message_id=card["message_id"])
    assert await d.wait_text(grid_chat, "已办结，等待群众评价")
    await d.wait_button(citizen.id, "满意")

    # the same category in a cell without a group stays with the street (属地兜底); other categories too
    other = d.core.grids.representative_point("温泉街道04网格")
    await d.report(d.citizen(8102), jpeg(label="o"), *other, category="占道经营")
    await d.report(d.citizen(8103), jpeg(label="g"), lat, lon, category="垃圾堆放")
    await emu.wait_for(lambda: len(photos(emu, street_chat)) == 2)
    assert len(photos(emu, grid_chat)) == 1

    async with d.core.sessions() as s:
        rows = [(c.category, c.street, c.grid) for c in await s.scalars(select(Case).order_by(Case.id))]
        routed = await s.scalar(select(Event).where(Event.kind == "routed").order_by(Event.id))
    assert rows == [("street_vending", STREET, GRID), ("street_vending", STREET, None), ("garbage", STREET, None)]
    assert routed.data["grid"] == GRID


async def test_a_grid_worker_reports_fast_from_the_grid_group_and_is_credited(district):
    d, emu = district, district.emu
    grid_chat = d.grid_chat(GRID)
    worker, mate = d.staff[grid_chat]
    lat, lon = d.core.grids.representative_point(GRID)

    # photo with a caption, then the place, in the group: category buttons follow, no note or confirm step
    await emu.send_photo(worker, grid_chat, jpeg(label="pothole"), caption="路口井盖松动")
    assert await d.wait_text(grid_chat, "请发送位置：📎→位置。")
    n = len(emu.messages(grid_chat))
    await emu.send_location(worker, grid_chat, lat, lon)
    prompt = await d.wait_button(grid_chat, "道路破损")
    assert emu.messages(grid_chat).index(prompt) >= n
    # another member's tap on the worker's category buttons is not theirs to make
    q = await d.tap_last(mate, grid_chat, "道路破损")
    assert await answer_of(d, q) == "这个按钮已失效。"
    q = await d.tap_last(worker, grid_chat, "道路破损")
    assert await answer_of(d, q) == "✅"
    receipt = await d.wait_text(grid_chat, "GL-")
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)

    # road damage routes to the street, with the worker's grid credited on the card
    card = await d.wait_button(d.street_chat(STREET), "接单")
    assert number in card["caption"] and "路口井盖松动" in card["caption"]
    assert re.search(rf"报告人: R-[0-9A-F]{{12}} · 网格员 {GRID}", card["caption"])
    assert "Grid worker" not in card["caption"]

    # /cancel in the group drops a report begun there
    await emu.send_photo(worker, grid_chat, jpeg(label="second"))
    await d.wait_text(grid_chat, "收到 1 张照片", after=len(emu.messages(grid_chat)) - 1)
    n = len(emu.messages(grid_chat))
    await emu.send_text(worker, grid_chat, "/cancel")
    assert await d.wait_text(grid_chat, "已取消", after=n)
    assert await d.core.intake.get_draft(worker.id) is None

    # ordinary group talk, and photos from members who are not grid workers, start nothing
    before = len(emu.messages(grid_chat))
    await emu.send_text(worker, grid_chat, "今天巡查完毕")
    await emu.send_photo(d.handler_of(STREET), d.street_chat(STREET), jpeg(label="x"))
    await d.outbox_settled()
    assert len(emu.messages(grid_chat)) == before

    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        reported = await s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "reported"))
    assert (case.reported_by_grid, case.description, case.reporter_id) == (GRID, "路口井盖松动", worker.id)
    assert (reported.actor_role, reported.data["grid"]) == ("grid_worker", GRID)

    summary = await d.app.bot_data["summaries"].daily_summary(date(2026, 11, 23))
    assert summary.grid_reports == {GRID: 1}
    assert f"网格员上报：{GRID} 1 件" in summary_body(summary.payload(), d.core.settings, "zh")


async def test_a_worker_registered_by_code_reports_fast_in_private(district):
    d, emu = district, district.emu
    code = await make_bind_code(d.cfg, "worker", "鼓东街道01网格")
    newcomer = emu.user(6900, "New grid worker", language_code="zh-hans")
    grid_chat = d.grid_chat("鼓东街道01网格")
    emu.add_member(grid_chat, newcomer)

    await emu.send_text(newcomer, grid_chat, f"/bind {code}")  # a worker code is for the private chat
    assert await d.wait_text(grid_chat, "请在与本机器人的私聊中发送")
    await d.text(newcomer, f"/bind {code}")
    assert await d.wait_text(newcomer.id, "您已登记为 鼓东街道01网格 的网格员")
    n = len(emu.messages(newcomer.id))
    await d.text(newcomer, f"/bind {code}")
    assert await d.wait_text(newcomer.id, "绑定码无效、已使用或已过期", after=n)

    await d.restart_bot()  # the registration lives in the database
    lat, lon = d.core.grids.representative_point("鼓东街道01网格")
    await emu.send_photo(newcomer, newcomer.id, jpeg(label="bin"), caption="垃圾桶满溢")
    await emu.send_location(newcomer, newcomer.id, lat, lon)
    await d.wait_button(newcomer.id, "垃圾堆放")
    q = await d.tap_last(newcomer, newcomer.id, "垃圾堆放")
    assert await answer_of(d, q) == "✅"
    assert await d.wait_text(newcomer.id, "GL-")
    assert not any("✅ 确认" in str(m.get("reply_markup")) for m in emu.messages(newcomer.id)), "no confirm step"
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
    assert (case.reported_by_grid, case.description, case.category) == ("鼓东街道01网格", "垃圾桶满溢", "garbage")

    # a grid group bound by code takes the grid's cards from then on
    code = await make_bind_code(d.cfg, "grid", "鼓东街道01网格")
    new_group = -1009900
    emu.group(new_group, "鼓东01网格新群", admins=[newcomer])  # only a group's administrators bind it
    await emu.send_text(newcomer, new_group, f"/bind {code}")
    assert await d.wait_text(new_group, "需要指挥中心确认")  # the grid had a group: the command centre decides
    command = d.cfg.command_center.chat_id
    await d.wait_button(command, "确认改绑")
    await d.tap_last(d.staff[command][0], command, "确认改绑")
    assert await d.wait_text(new_group, "本群已绑定：鼓东街道01网格")
    await d.report(d.citizen(8201), jpeg(label="v"), lat, lon, category="占道经营")
    card = await d.wait_button(new_group, "接单")
    assert "鼓东街道01网格" in card["caption"]

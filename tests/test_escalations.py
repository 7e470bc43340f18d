"""Extensions (延期) approved, refused and capped; difficult cases (疑难件) assigned by a duty leader."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import PersonCfg
from demo.district import District
from emulator.images import jpeg
from storage.models import Call, Case, Deadline, Event

STREET = "温泉街道"


@pytest.fixture
async def d(cfg, clock, tmp_path):
    cfg.escalation.duty_leaders = [PersonCfg(name="值班领导 Lin", user_id=7103)]
    district = District(cfg, tmp_path, clock=clock)
    district.emu.user(7103, "Lin")
    await district.start()
    try:
        yield district
    finally:
        await district.stop()


async def answer_of(d, q):
    await d.emu.wait_for(lambda: q in d.emu.callback_answers)
    return d.emu.callback_answers[q].get("text")


async def accepted(d, uid):
    await d.report(d.citizen(uid), jpeg(label=str(uid)), *d.core.streets.representative_point(STREET))
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    return chat


async def called(d, chat):
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "呼叫部门")
    await d.wait_button(chat, "⬜ 区城管局")
    await d.tap_last(handler, chat, "⬜ 区城管局")
    await d.wait_button(chat, "☑️ 区城管局")
    await d.tap_last(handler, chat, "1小时内")
    return await d.wait_button(d.dept_chat("city_mgmt"), "响应")


async def ask(d, user, chat, menu_label, option, reason):
    n = len(d.emu.messages(chat))
    await d.tap_last(user, chat, menu_label)
    await d.wait_button(chat, option)
    await d.tap_last(user, chat, option)
    prompt = await d.wait_text(chat, "说明延期理由", after=n)
    await d.emu.send_text(user, chat, reason, reply_to_message_id=prompt["message_id"])
    return await d.wait_text(chat, "延期申请已提交", after=n)


async def deadline(d, label):
    """The deadline the trace names `label` ('resolve', 'checkin:3' for call 3's)."""
    async with d.core.sessions() as s:
        return next((x for x in await s.scalars(select(Deadline)) if x.label == label), None)


async def test_a_call_extension_approved_by_the_calling_street(d):
    chat = await accepted(d, 9501)
    await called(d, chat)
    dept, staff = d.dept_chat("city_mgmt"), d.staff_of("city_mgmt")
    async with d.core.sessions() as s:
        call = await s.scalar(select(Call))
    before = await deadline(d, f"checkin:{call.id}")
    await ask(d, staff, dept, "延期", "延4小时", "需要调配挖掘机")
    request = await d.wait_button(chat, "批准")
    assert "需要调配挖掘机" in request["text"] and "11-23 10:30" in request["text"] and "11-23 14:30" in request["text"]
    q = await d.tap_last(d.handler_of(STREET), chat, "批准")
    assert await answer_of(d, q) == "已处理。"
    assert await d.wait_text(dept, "延期已批准")
    after = await deadline(d, f"checkin:{call.id}")
    assert after.due_at - before.due_at == timedelta(hours=4)
    async with d.core.sessions() as s:
        assert (await s.get(Call, call.id)).checkin_due == after.due_at
        ev = await s.scalar(select(Event).where(Event.kind == "extended"))
    assert ev.data["by"] == d.handler_of(STREET).first_name and ev.data["reason"] == "需要调配挖掘机"
    # the old check-in time passes without a nag
    d.clock.advance(hours=1, minutes=5)
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()
    assert not any("到场报到」已超时" in (m.get("text") or "") for m in d.emu.messages(dept))


async def test_a_street_extension_refused_by_the_duty_leader_and_the_cap(d):
    chat = await accepted(d, 9502)
    handler = d.handler_of(STREET)
    before = await deadline(d, "resolve")
    await ask(d, handler, chat, "⏳ 延期", "延1个工作日", "等待管线单位")
    request = await d.wait_button(7103, "不批准")
    assert "等待管线单位" in request["text"]
    outsider_q = await d.emu.tap(d.handler_of("鼓东街道"), d.street_chat("鼓东街道"), request["message_id"],
                                 request["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert "成员" in await answer_of(d, outsider_q)
    q = await d.tap_last(d.emu.user(7103), 7103, "不批准")
    assert await answer_of(d, q) == "已处理。"
    assert await d.wait_text(chat, "延期未获批准")
    assert (await deadline(d, "resolve")).due_at == before.due_at
    # approved twice: the third request is refused outright (max_extensions = 2)
    for reason in ("第一次", "第二次"):
        await ask(d, handler, chat, "⏳ 延期", "延1小时", reason)
        await d.wait_button(7103, "批准")
        await d.tap_last(d.emu.user(7103), 7103, "批准")
        await d.wait_text(chat, "延期已批准", after=len(d.emu.messages(chat)) - 3)
    assert (await deadline(d, "resolve")).due_at == before.due_at + timedelta(hours=2)
    await d.tap_last(handler, chat, "⏳ 延期")
    await d.wait_button(chat, "延1小时")
    q = await d.tap_last(handler, chat, "延1小时")
    assert "上限" in await answer_of(d, q)


async def test_a_difficult_case_is_assigned_by_the_duty_leader(d):
    chat = await accepted(d, 9503)
    q = await d.tap_last(d.handler_of(STREET), chat, "疑难件")
    assert await answer_of(d, q) == "已列为疑难件，提交值班领导。"
    card = await d.wait_button(7103, "区建设局")
    assert "疑难件" in card["text"] and "原因：经办人标记" in card["text"]  # the group's language only
    assert await d.wait_button(d.cfg.command_center.chat_id, "区建设局")
    officer = d.staff[d.cfg.command_center.chat_id][0]
    q = await d.tap_last(officer, d.cfg.command_center.chat_id, "区建设局")
    assert await answer_of(d, q) == "只有值班领导可以指定。"
    q = await d.tap_last(d.emu.user(7103), 7103, "区建设局")
    assert await answer_of(d, q) == "已指定。"
    call_card = await d.wait_button(d.dept_chat("construction"), "响应")
    assert "呼叫方: 温泉街道 · Lin" in call_card["caption"]  # the duty leader (Telegram name) called
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        ev = await s.scalar(select(Event).where(Event.kind == "assigned"))
    assert case.difficult and ev.data["unit"] == "construction" and ev.actor_id == 7103
    assert await d.wait_text(d.cfg.command_center.chat_id, "指定 区建设局 负责")


async def test_reopened_twice_becomes_difficult(d):
    chat = await accepted(d, 9504)
    citizen, handler = d.emu.user(9504), d.handler_of(STREET)
    for round_ in range(2):
        card = [m for m in d.emu.messages(chat) if m.get("photo")][-1]
        await d.emu.send_photo_reply(handler, chat, jpeg(label=f"after{round_}"), caption="处理了",
                                     reply_to_message_id=card["message_id"])
        await d.wait_button(citizen.id, "不满意")
        await d.tap_last(citizen, citizen.id, "不满意")
        await d.wait_text(citizen.id, "已重新办理您的诉求", after=len(d.emu.messages(citizen.id)) - 1)
        await d.outbox_settled()
    card = await d.wait_button(7103, "区城管局")
    assert "原因：两次重办" in card["text"]


async def test_a_disputed_not_ours_becomes_difficult(d):
    chat = await accepted(d, 9505)
    await called(d, chat)
    dept = d.dept_chat("city_mgmt")
    await d.tap_last(d.staff_of("city_mgmt"), dept, "不属于本部门")
    prompt = await d.wait_text(dept, "为何不属于本部门职责")
    await d.emu.send_text(d.staff_of("city_mgmt"), dept, "应由园林部门处理", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(dept, "已退回呼叫方。")
    await d.wait_button(chat, "有争议")
    q = await d.tap_last(d.handler_of(STREET), chat, "有争议")
    assert await answer_of(d, q) == "已列为疑难件，提交值班领导。"
    card = await d.wait_button(7103, "区城管局")
    assert "区城管局 退回有争议" in card["text"]

"""On site means on site: the case's on-site deadline (limits.checkin), who meets it, and the evidence."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from demo.district import District
from emulator.images import jpeg
from storage.models import Call, Case, Deadline, Event
from tests.test_disposal import STREET, accepted_case, answers, call, check_in


async def fire(d):
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()


def texts(d, chat):
    return [m.get("text") or m.get("caption") or "" for m in d.emu.messages(chat)]


async def test_a_department_on_site_in_time_meets_the_case_on_site_deadline(district):
    """The bug: a department that checked in at minute 5 did not stop the case's 1-hour on-site
    deadline; at 60 minutes the street was nagged and the chain climbed to a difficult case."""
    d = district
    _citizen, number, chat, (lat, lon) = await accepted_case(d, 8201)  # 道路破损: on site within 1 h
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    dept = d.dept_chat("city_mgmt")
    card = await d.wait_button(dept, "响应")
    d.clock.advance(minutes=5)
    reply = await check_in(d, d.staff_of("city_mgmt"), card, lat, lon)
    assert reply["text"].startswith("报到成功")
    for minutes in (45, 15, 11, 11, 11):  # past the warning, the lapse and every escalation step
        d.clock.advance(minutes=minutes)
        await fire(d)
    late = [x for x in texts(d, chat) + texts(d, d.cfg.command_center.chat_id) if "到场报到」" in x]
    assert late == [], late
    async with d.core.sessions() as s:
        on_site = await s.scalar(select(Deadline).where(Deadline.kind == "checkin", Deadline.call_id.is_(None)))
        assert on_site.status == "met" and on_site.level == 0


def link_of(card, label="到场"):
    url = next(b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row
               if b.get("url") and label in b["text"])
    return url.split("start=")[1]


async def open_check_in(d, user, card, label="到场"):
    n = len(d.emu.messages(user.id))
    await d.text(user, f"/start {link_of(card, label)}")
    return await d.emu.wait_for(lambda: len(d.emu.messages(user.id)) > n and d.emu.messages(user.id)[-1])


async def reply_to(d, user, send):
    n = len(d.emu.messages(user.id))
    await send
    return await d.emu.wait_for(lambda: len(d.emu.messages(user.id)) > n and d.emu.messages(user.id)[-1])


async def test_the_street_checks_in_itself_and_meets_the_one_hour_deadline(district):
    d, emu = district, district.emu
    citizen, number, chat, (lat, lon) = await accepted_case(d, 8202)
    handler = d.handler_of(STREET)
    card = await d.wait_button(chat, "到场")
    assert (await open_check_in(d, handler, card))["text"].startswith("请发送您当前的位置")
    far = await reply_to(d, handler, emu.send_location(handler, handler.id, lat + 0.01, lon))
    assert re.search(r"报到失败：您距现场 1\d{3} 米，需在 200 米以内", far["text"])
    d.clock.advance(minutes=20)
    ok = await reply_to(d, handler, emu.send_location(handler, handler.id, lat + 0.0003, lon))
    assert ok["text"].startswith("报到成功，距现场 3")
    assert await d.wait_text(chat, f"📍 {number}：{handler.first_name} 已到场")
    assert await d.wait_text(citizen.id, "街镇工作人员已到达现场")
    edited = await emu.wait_for(lambda: next(
        (m for m in emu.messages(chat) if "📍 已到场：" in (m.get("caption") or "")), None))
    assert "11-23 09:50" in edited["caption"]
    for minutes in (45, 15, 11, 11, 11):
        d.clock.advance(minutes=minutes)
        await fire(d)
    assert not [x for x in texts(d, chat) if "「到场" in x]
    async with d.core.sessions() as s:
        own = await s.scalar(select(Deadline).where(Deadline.kind == "checkin", Deadline.call_id.is_(None)))
        assert own.status == "met"
        events = {e.kind: e for e in await s.scalars(select(Event).order_by(Event.id))}
    assert events["on_site"].actor_id == handler.id and events["on_site"].data["distance_m"] < 40
    assert events["checkin_refused"].actor_role == "handler"
    # an outsider cannot check in for the street
    outsider = emu.user(6200, "Passer-by")
    assert (await open_check_in(d, outsider, card))["text"] == "只有本案属地群的成员可以到场报到。"


async def test_a_forwarded_location_or_a_venue_never_checks_in(district):
    d, emu = district, district.emu
    _citizen, _number, chat, (lat, lon) = await accepted_case(d, 8203)
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    handler = d.staff_of("city_mgmt")  # today: a forwarded location checked in "0 m from the place"
    await open_check_in(d, handler, await d.wait_button(d.dept_chat("city_mgmt"), "响应"), "报到")
    friend = emu.user(6201, "Friend on site")
    fwd = await reply_to(d, handler, emu.send_location(handler, handler.id, lat, lon, forwarded_from=friend))
    assert fwd["text"].startswith("转发的位置不能用于报到")
    venue = await reply_to(d, handler, emu.send_venue(handler, handler.id, lat, lon, "路口", "温泉路"))
    assert venue["text"].startswith("从列表选择的地点不能用于报到")
    assert "位置已记录" not in venue["text"]
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).on_site_at is None
        assert (await s.scalar(select(Call))).status == "pending"
    ok = await reply_to(d, handler, emu.send_location(handler, handler.id, lat, lon))
    assert ok["text"].startswith("报到成功")


async def test_a_check_in_survives_a_restart(district):
    """The intent lived in memory: after a restart the location became a citizen's draft."""
    d, emu = district, district.emu
    _citizen, _number, chat, (lat, lon) = await accepted_case(d, 8204)
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    card = await d.wait_button(d.dept_chat("city_mgmt"), "响应")
    staff = d.staff_of("city_mgmt")
    assert (await open_check_in(d, staff, card, "报到"))["text"].startswith("请发送您当前的位置")
    await d.restart_bot()
    ok = await reply_to(d, staff, emu.send_location(staff, staff.id, lat, lon))
    assert ok["text"].startswith("报到成功"), ok["text"]
    assert await d.wait_text(chat, "已到场报到")
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Call))).status == "checked_in"


@pytest.fixture
async def strict(cfg, clock, tmp_path):
    cfg.disposal.checkin_live = True
    cfg.disposal.checkin_photo = True
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d


async def test_live_location_kept_a_minute_and_a_photo_first(strict):
    d, emu = strict, strict.emu
    _citizen, number, chat, (lat, lon) = await accepted_case(d, 8205)
    handler = d.handler_of(STREET)
    asked = await open_check_in(d, handler, await d.wait_button(chat, "到场"))
    assert "请先发一张现场照片" in asked["text"] and "实时位置" in asked["text"]
    early = await reply_to(d, handler, emu.send_location(handler, handler.id, lat, lon, live_period=900))
    assert early["text"] == "请先发一张现场照片，再发送位置。"
    photo = await reply_to(d, handler, emu.send_photo(handler, handler.id, jpeg(label="on site")))
    assert photo["text"].startswith("请发送您当前的位置")
    pinned = await reply_to(d, handler, emu.send_location(handler, handler.id, lat, lon))  # a point on the map
    assert pinned["text"].startswith("报到须共享实时位置")
    # a live location that walks away within its first minute does not count
    live = await emu.send_location(handler, handler.id, lat, lon, live_period=900)
    assert (await d.wait_text(handler.id, "请在现场保持共享 1 分钟"))
    d.clock.advance(seconds=30)
    gone = await reply_to(d, handler, emu.move_live_location(handler, handler.id, live["message_id"],
                                                             lat + 0.005, lon))
    assert gone["text"].startswith("报到未通过：1 分钟内实时位置离开现场")
    # shared again, and still on site a minute later: the check-in counts
    n = len(emu.messages(handler.id))
    live = await emu.send_location(handler, handler.id, lat, lon, live_period=900)
    await d.wait_text(handler.id, "请在现场保持共享 1 分钟", after=n)
    d.clock.advance(seconds=30)
    await emu.move_live_location(handler, handler.id, live["message_id"], lat + 0.0002, lon)
    d.clock.advance(seconds=31)
    ok = await reply_to(d, handler, emu.move_live_location(handler, handler.id, live["message_id"],
                                                           lat + 0.0001, lon))
    assert ok["text"].startswith("报到成功")
    assert await d.wait_text(chat, f"📍 {number}")
    async with d.core.sessions() as s:
        event = await s.scalar(select(Event).where(Event.kind == "on_site"))
    assert event.data["live"] is True and len(event.data["photo"]) == 64


async def test_the_call_picker_offers_the_case_on_site_deadline_first(district):
    d = district
    _citizen, number, chat, _ = await accepted_case(d, 8206)  # accepted 09:30, on site by 10:30
    handler = d.handler_of(STREET)
    d.clock.advance(minutes=10)
    await d.tap_last(handler, chat, "呼叫部门")
    picker = await d.wait_button(chat, "⬜ 区城管局")
    rows = [[b["text"] for b in row] for row in picker["reply_markup"]["inline_keyboard"]]
    times = [r for r in rows if not any(x.startswith(("⬜", "☑️")) for x in r)]
    assert times[0] == ["⏱ 按本案到场时限（10:30）"] and "1小时内" in times[1], rows
    await d.tap_last(handler, chat, "⬜ 区城管局")
    await d.wait_button(chat, "☑️ 区城管局")
    q = await d.tap_last(handler, chat, "按本案到场时限")
    assert (await answers(d, q))[0] == "已呼叫。"
    card = await d.wait_button(d.dept_chat("city_mgmt"), "响应")
    assert "到场时限: 11-23 10:30" in card["caption"]


async def test_no_on_site_choice_without_an_on_site_limit(district):
    d = district
    citizen = d.citizen(8207)
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(citizen, jpeg(), lat, lon, category="垃圾堆放")  # no limits.checkin
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    await d.tap_last(d.handler_of(STREET), chat, "呼叫部门")
    picker = await d.wait_button(chat, "⬜ 区城管局")
    assert not [b for row in picker["reply_markup"]["inline_keyboard"] for b in row if "到场时限" in b["text"]]


@pytest.fixture
async def with_leader(cfg, clock, tmp_path):
    from bot.config import PersonCfg
    cfg.escalation.duty_leaders = [PersonCfg(name="值班领导 Lin", user_id=7103)]
    async with District(cfg, tmp_path, clock=clock) as d:
        d.emu.user(7103, "Lin")
        yield d


async def test_more_time_for_the_case_on_site_deadline_same_approval_and_cap(with_leader):
    from tests.test_escalations import answer_of, ask, deadline
    d = with_leader
    _citizen, _number, chat, _ = await accepted_case(d, 8208)
    handler, leader = d.handler_of(STREET), d.emu.user(7103)
    before, resolve = await deadline(d, "checkin"), await deadline(d, "resolve")
    await ask(d, handler, chat, "⏳ 延期", "📍 到场延1小时", "等待封路许可")
    request = await d.wait_button(7103, "批准")
    assert "「到场报到」" in request["text"] or "到场报到" in request["text"]
    assert "11-23 10:30" in request["text"] and "11-23 11:30" in request["text"]
    await d.tap_last(leader, 7103, "批准")
    assert await d.wait_text(chat, "延期已批准")
    assert (await deadline(d, "checkin")).due_at - before.due_at == timedelta(hours=1)
    assert (await deadline(d, "resolve")).due_at == resolve.due_at
    n = len(d.emu.messages(7103))
    await ask(d, handler, chat, "⏳ 延期", "📍 到场延1小时", "第二次")
    await d.wait_text(7103, "第二次", after=n)
    await d.tap_last(leader, 7103, "批准")
    await d.wait_text(chat, "11-23 12:30")
    await d.tap_last(handler, chat, "⏳ 延期")
    await d.wait_button(chat, "📍 到场延1小时")
    q = await d.tap_last(handler, chat, "📍 到场延1小时")
    assert "上限" in await answer_of(d, q)


@pytest.fixture
async def live_only(cfg, clock, tmp_path):
    cfg.disposal.checkin_live = True
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d


async def test_a_live_location_standing_still_counts_after_a_minute(live_only):
    """A phone that does not move may send no update: the last known place, a minute on, is enough."""
    d, emu = live_only, live_only.emu
    _citizen, number, chat, (lat, lon) = await accepted_case(d, 8209)
    handler = d.handler_of(STREET)
    await open_check_in(d, handler, await d.wait_button(chat, "到场"))
    await emu.send_location(handler, handler.id, lat, lon, live_period=900)
    await d.wait_text(handler.id, "请在现场保持共享 1 分钟")
    job = d.app.job_queue.get_jobs_by_name("live_checkins")[0]
    d.clock.advance(seconds=40)
    await job.run(d.app)
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).on_site_at is None
    d.clock.advance(seconds=21)
    n = len(emu.messages(handler.id))
    await job.run(d.app)
    assert await d.wait_text(handler.id, "报到成功", after=n)
    assert await d.wait_text(chat, f"📍 {number}：{handler.first_name} 已到场")
    await job.run(d.app)  # once only
    assert len([m for m in emu.messages(handler.id) if "报到成功" in (m.get("text") or "")]) == 1

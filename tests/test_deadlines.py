"""Deadlines that bite: policy per category, nags up the chain, restarts, two processes, daily summary."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import settings_from
from bot.config import PersonCfg
from cases import Core
from demo.district import District
from emulator.images import jpeg
from storage.db import open_database
from storage.models import Case, Deadline, Event, Outbox

STREET = "温泉街道"
LOCAL = timedelta(hours=8)  # Asia/Shanghai


@pytest.mark.parametrize("category, label, expected", [
    ("garbage", "垃圾堆放", {"respond": timedelta(minutes=10), "resolve": timedelta(hours=4)}),
    ("standing_water", "道路积水", {"respond": timedelta(minutes=10), "resolve": timedelta(hours=4)}),
    ("road_damage", "道路破损", {"respond": timedelta(minutes=10), "checkin": timedelta(hours=1),
                                 "resolve": timedelta(days=1)}),
    ("burst_pipe", "水管爆裂", {"respond": timedelta(minutes=10), "checkin": timedelta(hours=1),
                               "resolve": timedelta(days=1)}),
    ("other", "其他", {"respond": timedelta(minutes=10), "resolve": timedelta(days=1)}),
])
async def test_every_policy_row_of_the_demo_config(district, category, label, expected):
    d = district  # Monday 09:30 local: one working day later is Tuesday 09:30
    await d.report(d.citizen(9001), jpeg(), *d.core.streets.representative_point(STREET), category=label)
    async with d.core.sessions() as s:
        rows = {x.kind: x for x in await s.scalars(select(Deadline))}
    assert {k: rows[k].due_at - d.clock.now() for k in rows} == expected
    assert all(x.next_at == x.opened_at + (x.due_at - x.opened_at) * 0.8 for x in rows.values())


@pytest.fixture
async def chained(cfg, clock, tmp_path):
    """The demo district, with the water bureau's chain and a duty leader who have started the bot."""
    water = next(x for x in cfg.departments if x.key == "water")
    water.deputy, water.chief = PersonCfg(name="副局长 Zhang", user_id=7101), PersonCfg(name="局长 Chen", user_id=7102)
    cfg.escalation.duty_leaders = [PersonCfg(name="值班领导 Lin", user_id=7103)]
    d = District(cfg, tmp_path, clock=clock)
    for uid, name in ((7101, "Zhang"), (7102, "Chen"), (7103, "Lin")):
        d.emu.user(uid, name)
    async with d:
        yield d


async def fire(d):
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    return await d.outbox_settled()


def texts(d, chat):
    return [m.get("text") or "" for m in d.emu.messages(chat)]


async def test_an_unanswered_call_climbs_the_chain_then_stops(chained):
    d, emu = chained, chained.emu
    citizen = d.citizen(9101)
    await d.report(citizen, jpeg(), *d.core.streets.representative_point(STREET))
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "呼叫部门")
    await d.tap_last(d.handler_of(STREET), chat, "呼叫部门")
    await d.wait_button(chat, "⬜ 区水利局")
    await d.tap_last(d.handler_of(STREET), chat, "⬜ 区水利局")
    await d.wait_button(chat, "☑️ 区水利局")
    await d.tap_last(d.handler_of(STREET), chat, "2小时内")
    water = d.dept_chat("water")
    await d.wait_button(water, "响应")

    d.clock.advance(minutes=7)
    await fire(d)
    assert not any("响应呼叫" in x for x in texts(d, water)), "nothing before 80 % of the time"
    d.clock.advance(minutes=1, seconds=1)  # 8 min: the early warning
    await fire(d)
    assert sum("⚠️" in x and "响应呼叫" in x for x in texts(d, water)) == 1
    d.clock.advance(minutes=2)  # 10 min: lapsed, the department is nagged
    await fire(d)
    assert sum("⏰" in x and "区水利局「响应呼叫」已超时" in x for x in texts(d, water)) == 1
    d.clock.advance(minutes=10)  # +10: the deputy, in the group and privately
    await fire(d)
    await fire(d)  # firing again sends nothing twice
    assert sum("已升级至分管领导 副局长 Zhang" in x for x in texts(d, water)) == 1
    assert len([x for x in texts(d, 7101) if "请关注：诉求" in x]) == 1
    d.clock.advance(minutes=10)  # +20: the chief
    await fire(d)
    assert sum("已升级至主责领导 局长 Chen" in x for x in texts(d, water)) == 1
    assert len(texts(d, 7102)) == 1

    # the department answers at last: everything about the answer stops
    await d.tap_last(d.staff_of("water"), water, "响应")
    await d.wait_text(chat, "区水利局 已响应")
    before = {c: len(emu.messages(c)) for c in (water, 7101, 7102, 7103, d.cfg.command_center.chat_id)}
    d.clock.advance(minutes=30)
    await fire(d)
    after = {c: len(emu.messages(c)) for c in before}
    assert after[7103] == 0 and after[d.cfg.command_center.chat_id] == before[d.cfg.command_center.chat_id]
    async with d.core.sessions() as s:
        events = [(e.kind, e.data.get("level")) for e in await s.scalars(select(Event).where(
            Event.kind.in_(("warned", "lapsed", "escalated"))).order_by(Event.id)) if "answer" in e.data["deadline"]]
    assert events == [("warned", None), ("lapsed", "lapsed"), ("escalated", "deputy"), ("escalated", "chief")]


async def test_top_of_the_chain_reaches_the_command_centre_and_duty_leader(chained):
    d = chained
    await d.report(d.citizen(9102), jpeg(), *d.core.streets.representative_point(STREET), category="垃圾堆放")
    d.clock.advance(minutes=45)  # nobody accepted: respond lapsed 35 min ago, every level is due at once
    await fire(d)
    street = texts(d, d.street_chat(STREET))
    assert sum("「响应」已超时" in x for x in street) == 1
    assert sum("已上报指挥中心，列为疑难件" in x for x in texts(d, d.cfg.command_center.chat_id)) == 1
    leader = texts(d, 7103)
    assert len(leader) == 2 and any("请关注" in x for x in leader) and any("疑难件" in x for x in leader)
    async with d.core.sessions() as s:
        kinds = [e.kind for e in await s.scalars(select(Event).order_by(Event.id))]
    assert kinds.count("difficult") == 1 and kinds.count("escalated") == 3


async def test_a_deadline_that_lapsed_while_the_bot_was_down_fires_once_after_start(district):
    d = district
    await d.report(d.citizen(9103), jpeg(), *d.core.streets.representative_point(STREET), category="垃圾堆放")
    await d.outbox_settled()
    await d.stop_bot()
    d.clock.advance(minutes=11)
    await d.start_bot()  # the deadlines job runs at start (first=0)
    chat = d.street_chat(STREET)
    await d.wait_text(chat, "「响应」已超时")
    await fire(d)
    assert sum("「响应」已超时" in x for x in texts(d, chat)) == 1
    assert not any("将于" in x for x in texts(d, chat)), "no early warning for what has already lapsed"


async def test_two_processes_on_one_database_fire_each_step_once(district):
    d = district
    for i in range(20):
        await d.report(d.citizen(9200 + i), jpeg(label=str(i)), *d.core.streets.representative_point(STREET),
                       category="垃圾堆放")
    await d.outbox_settled()
    await d.stop_bot()
    cores = []
    for _ in range(2):  # two independent engines and writer threads on the same SQLite file
        db = await open_database(d.cfg.database.url)
        cores.append(Core(db, d.clock, settings_from(d.cfg), None))
    try:
        d.clock.advance(minutes=9)  # the early warnings are due
        fired = await asyncio.gather(*(c.deadlines.fire_due() for c in cores))
        d.clock.advance(minutes=2)  # and now the lapses
        fired += await asyncio.gather(*(c.deadlines.fire_due() for c in cores))
        async with cores[0].sessions() as s:
            nags = [r for r in await s.scalars(select(Outbox).where(Outbox.kind == "notice"))
                    if r.payload["key"].startswith("dl_")]
    finally:
        for c in cores:
            await c.db.dispose()
    assert sum(fired) == 40  # 20 warnings + 20 lapses, between the two
    assert sorted(r.payload["key"] for r in nags) == ["dl_level1"] * 20 + ["dl_warn"] * 20
    assert len({(r.case_id, r.payload["key"]) for r in nags}) == 40


async def test_daily_summary_numbers(district):
    d = district
    streets = ["温泉街道", "温泉街道", "鼓东街道"]
    for i, street in enumerate(streets):
        await d.report(d.citizen(9300 + i), jpeg(label=str(i)), *d.core.streets.representative_point(street),
                       category="垃圾堆放")
    chat = d.street_chat("温泉街道")
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of("温泉街道"), chat, "接单")
    card = await d.wait_button(chat, "办结")
    await d.emu.send_photo_reply(d.handler_of("温泉街道"), chat, jpeg(label="after"), caption="已清运",
                                 reply_to_message_id=card["message_id"])
    await d.wait_text(chat, "已办结，等待群众评价")
    d.clock.advance(minutes=20)  # the other two were never accepted: respond is overdue
    await d.app.job_queue.get_jobs_by_name("summary")[0].run(d.app)
    msg = await d.wait_text(d.cfg.command_center.chat_id, "日报")
    assert "温泉街道 | 2 | 1 | 1 | 0" in msg["text"]
    assert "鼓东街道 | 1 | 0 | 1 | 0" in msg["text"]
    assert "合计 | 3 | 1 | 2 | 0" in msg["text"]
    async with d.core.sessions() as s:
        late = [c.number for c in await s.scalars(select(Case).where(Case.state == "routed"))]
    for number in late:
        assert f"{number} " in msg["text"]
    assert (d.clock.now() + LOCAL).strftime("%Y-%m-%d") in msg["text"], "the fake clock's day"


async def test_the_handler_is_mentioned_in_the_group_and_nagged_privately(district):
    d = district
    await d.report(d.citizen(9401), jpeg(), *d.core.streets.representative_point(STREET), category="垃圾堆放")
    chat = d.street_chat(STREET)
    handler = d.handler_of(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(handler, chat, "接单")
    await d.wait_button(chat, "办结")
    d.clock.advance(hours=4, minutes=1)  # garbage: resolve within 4 hours
    await fire(d)
    nag = next(m for m in d.emu.messages(chat) if "「办结」已超时" in (m.get("text") or ""))
    assert f"请 {handler.first_name} 立即处理" in nag["text"]
    links = [e for e in nag.get("entities", []) if e["type"] == "text_link"]
    assert links and links[0]["url"] == f"tg://user?id={handler.id}"
    assert any("请关注：诉求" in (m.get("text") or "") for m in d.emu.messages(handler.id))


async def test_an_english_district_reads_the_nags_and_the_difficult_card_in_english(cfg, clock, tmp_path):
    """The core gives the unit by kind and key and the due time as it is; the words are the group's: the
    street's English name, the time in the district's zone, why the case is difficult."""
    cfg.language = "en"
    cfg.escalation.duty_leaders = [PersonCfg(name="Lin", user_id=7103)]
    d = District(cfg, tmp_path, clock=clock)
    d.emu.user(7103, "Lin")
    async with d:
        await d.report(d.citizen(9104), jpeg(), *d.core.streets.representative_point(STREET), category="垃圾堆放")
        d.clock.advance(minutes=45)  # nobody accepted: every level of respond is due at once
        await fire(d)
        async with d.core.sessions() as s:
            due = (await s.scalar(select(Deadline).where(Deadline.kind == "respond"))).due_at
        local = (due + LOCAL).strftime("%m-%d %H:%M")
        nag = next(x for x in texts(d, d.street_chat(STREET)) if x.startswith("⏰"))
        assert f"Wenquan is late to respond (due {local}); Wenquan, please act now." in nag
        top = next(x for x in texts(d, d.cfg.command_center.chat_id) if x.startswith("🚨"))
        assert "Wenquan is 35 min late to respond; escalated to the command centre" in top
        card = next(x for x in texts(d, 7103) if "Difficult case" in x)
        assert "Why: Wenquan: “respond” late up to the top of its chain" in card
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in nag + top)


async def test_the_deadline_job_is_re_armed_once_for_many_commits_and_moved_only_when_the_earliest_step_moves(
        district):
    d = district
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(d.citizen(9301), jpeg(), lat, lon, category="垃圾堆放")
    await d.outbox_settled()
    await asyncio.sleep(0.05)  # the re-arm after the last commit
    [job] = d.app.job_queue.get_jobs_by_name("next")
    first_due = job.next_t

    asked = []
    real = d.core.deadlines.next_deadline_at

    async def counted():
        asked.append(1)
        return await real()
    d.core.deadlines.next_deadline_at = counted
    for _ in range(10):  # ten commits in a row (one loop turn): one re-arm, not ten
        d.core.on_deadlines()
    await asyncio.sleep(0.05)
    assert len(asked) == 1
    assert d.app.job_queue.get_jobs_by_name("next") == (job,), "the earliest step did not move: same job"

    d.clock.advance(minutes=3)  # a later case: its first step comes after the first case's
    await d.report(d.citizen(9302), jpeg(label="2"), lat, lon, category="垃圾堆放")
    await d.outbox_settled()
    await asyncio.sleep(0.05)
    assert d.app.job_queue.get_jobs_by_name("next") != (job,), "the clock moved: the job is re-armed for it"
    [moved] = d.app.job_queue.get_jobs_by_name("next")
    assert abs((moved.next_t - first_due).total_seconds() + 180) < 5, "same step, 3 clock minutes nearer"

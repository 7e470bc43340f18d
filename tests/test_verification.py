"""Verification before closing (核查结案): a grid worker checks in on site and confirms before the citizen rates."""

import pytest
from sqlalchemy import select

from demo.district import District
from emulator.images import jpeg
from storage.models import Case, Deadline, Event
from tests.test_disposal import answers
from tests.test_on_site import open_check_in, reply_to

GRID, STREET = "温泉街道01网格", "温泉街道"


@pytest.fixture
async def d(cfg, clock, tmp_path):
    road = next(c for c in cfg.categories if c.key == "road_damage")
    road.verify = "grid"
    async with District(cfg, tmp_path, clock=clock) as district:
        yield district


async def resolved(d, uid):
    citizen = d.citizen(uid)
    lat, lon = d.core.grids.representative_point(GRID)
    await d.report(citizen, jpeg(label="before"), lat, lon)
    chat, handler = d.street_chat(STREET), d.handler_of(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(handler, chat, "接单")
    card = await d.wait_button(chat, "办结")
    await d.emu.send_photo_reply(handler, chat, jpeg(label="after"), caption="已修补路面",
                                 reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待现场核查。")
    return citizen, chat, (lat, lon)


async def test_a_grid_worker_verifies_on_site_before_the_citizen_rates(d):
    emu = d.emu
    citizen, chat, (lat, lon) = await resolved(d, 8301)
    assert await d.wait_text(citizen.id, "正在现场核查")
    group = d.grid_chat(GRID)
    card = await d.wait_button(group, "属实")
    assert "核查" in card["text"] and "已修补路面" in card["text"]
    assert not [m for m in emu.messages(citizen.id) if "请评价" in (m.get("text") or "")]
    worker = d.staff[group][0]
    q = await d.tap_last(worker, group, "属实")  # not yet on site
    assert (await answers(d, q))[0] == "请先点“到场核查”，在现场发送位置。"
    far = await open_check_in(d, worker, card, "到场核查")
    assert far["text"].startswith("请发送您当前的位置")
    refused = await reply_to(d, worker, emu.send_location(worker, worker.id, lat + 0.01, lon))
    assert refused["text"].startswith("报到失败")
    ok = await reply_to(d, worker, emu.send_location(worker, worker.id, lat, lon))
    assert ok["text"].startswith("报到成功")
    assert await d.wait_text(group, "已到场核查")
    q = await d.tap_last(worker, group, "属实")
    assert (await answers(d, q))[0] == "已确认属实。"
    assert await d.wait_text(chat, "现场核查属实")
    await d.wait_button(citizen.id, "满意")
    q = await d.tap_last(citizen, citizen.id, "满意")
    await answers(d, q)
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.rating) == ("closed", "satisfied")
        verify = await s.scalar(select(Deadline).where(Deadline.kind == "verify"))
        assert verify.status == "met"
        kinds = [e.kind for e in await s.scalars(select(Event).order_by(Event.id))]
    assert kinds.index("resolved") < kinds.index("verify_on_site") < kinds.index("verified") < kinds.index("rated")


async def test_not_done_reopens_with_a_fresh_clock_against_the_handler(d):
    emu = d.emu
    citizen, chat, (lat, lon) = await resolved(d, 8302)
    group = d.grid_chat(GRID)
    card = await d.wait_button(group, "未解决")
    worker = d.staff[group][0]
    await open_check_in(d, worker, card, "到场核查")
    await reply_to(d, worker, emu.send_location(worker, worker.id, lat, lon))
    d.clock.advance(hours=2)
    await d.tap_last(worker, group, "未解决")
    prompt = await d.wait_text(group, "哪里未解决")
    await emu.send_text(worker, group, "坑还在，只铺了沙", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(group, "已退回重办。")
    assert await d.wait_text(chat, "核查未解决，已退回重办（记经办人 Wenquan handler）。理由：坑还在，只铺了沙")
    assert not [m for m in emu.messages(citizen.id) if "请评价" in (m.get("text") or "")]
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.reopen_count, case.resolved_at) == ("accepted", 1, None)
        failed = await s.scalar(select(Event).where(Event.kind == "verify_failed"))
        assert failed.data["handler_id"] == d.handler_of(STREET).id
        resolve = await s.scalar(select(Deadline).where(Deadline.kind == "resolve", Deadline.status == "open"))
        assert resolve.opened_at.replace(tzinfo=None) == d.clock.now().replace(tzinfo=None)


async def test_verification_has_its_own_deadline_that_nags(d):
    await resolved(d, 8303)
    group = d.grid_chat(GRID)
    await d.wait_button(group, "属实")
    d.clock.advance(days=1, hours=1)  # Tuesday 10:30: a working day later
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()
    assert await d.wait_text(group, "「现场核查」已超时")


def test_who_verifies(cfg):
    """verify: grid goes to the grid cell's group holding the place; a cell without a group, or verify: street,
    leaves it with the street's group."""
    from types import SimpleNamespace

    from bot.app import load_grids, settings_from
    from cases.verification import verifier_chat
    for c in cfg.categories:
        c.verify = {"road_damage": "grid", "garbage": "street"}.get(c.key)
    from datetime import UTC, datetime

    from cases.clock import FakeClock
    from cases.directory import Directory
    settings, grids = settings_from(cfg), load_grids(cfg)
    directory = Directory(settings, FakeClock(datetime(2026, 11, 23, tzinfo=UTC)))
    inside = grids.representative_point(GRID)
    bare = grids.representative_point("温泉街道04网格")  # a cell with no group
    case = SimpleNamespace(category="road_damage", grid=None, street=STREET, lat=inside[0], lon=inside[1])
    assert verifier_chat(settings, directory, grids, case) == directory.grid_chats[GRID]
    case.lat, case.lon = bare
    assert verifier_chat(settings, directory, grids, case) == directory.street_chats[STREET]
    case.category, case.lat, case.lon = "garbage", *inside
    assert verifier_chat(settings, directory, grids, case) == directory.street_chats[STREET]

"""Bindings by code, questions answered by reply, and the daily summary: the core alone."""

from cases.binding import new_code
from cases.prompts import Prompts
from cases.stats import CENTRE, DailySummaries
from storage.models import Binding, GridWorker, Outbox
from tests.unit.support import COMMAND, HANDLER, STREET, STREET_CHAT, called, outbox, report, rows
from ui.summary import summary_body


async def test_a_code_binds_a_group_once_and_wins_over_the_config(core):
    code = await core.db.write(lambda s: new_code(s, "street", STREET, core.now()))
    assert (await core.bindings.bind(code, -42, 1, private=True)).key == "code_group"
    outcome = await core.bindings.bind(code.lower(), -42, 1)
    # the street has a group already (config.yaml): moving it waits for the command centre
    assert (outcome.ok, outcome.key, outcome.bound) == (True, "rebind_asked", ("street", STREET))
    assert core.directory.street_chats[STREET] == STREET_CHAT
    assert (await core.bindings.decide_rebind(outcome.request_id, True, 4999, COMMAND)).key == "rebind_confirmed"
    assert core.directory.street_chats[STREET] == -42
    assert (await core.bindings.bind(code, -43, 1)).key == "bad_code"
    assert [(b.kind, b.target, b.chat_id) for b in rows(core, Binding)] == [("street", STREET, -42)]
    # a second core on the same database (a restart) reads the binding back
    core.directory.street_chats[STREET] = STREET_CHAT
    await core.bindings.load()
    assert core.directory.street_chats[STREET] == -42


async def test_a_worker_code_registers_a_grid_worker_in_a_private_chat(core):
    code = await core.db.write(lambda s: new_code(s, "worker", "温泉街道01网格", core.now()))
    assert (await core.bindings.bind(code, -42, 6100)).key == "code_private"
    assert (await core.bindings.bind(code, 6100, 6100, private=True)).ok
    assert core.directory.grid_workers[6100] == "温泉街道01网格"
    assert [(w.user_id, w.grid) for w in rows(core, GridWorker)] == [(6100, "温泉街道01网格")]


async def test_a_prompt_is_answered_once(core, clock):
    prompts = Prompts(core.db, clock)
    await prompts.save_prompt(STREET_CHAT, 77, "not_ours", 1, HANDLER)
    assert await prompts.prompt_open(STREET_CHAT, "not_ours", 1)
    prompt = await prompts.prompt_at(STREET_CHAT, 77)
    assert (await prompts.open_prompt(STREET_CHAT, "not_ours")).id == prompt.id
    assert await prompts.claim_prompt(prompt.id)
    assert not await prompts.claim_prompt(prompt.id)
    assert not await prompts.prompt_open(STREET_CHAT, "not_ours", 1)
    await prompts.save_prompt(STREET_CHAT, 78, "time", 1, HANDLER)
    clock.advance(minutes=11)
    assert not await prompts.prompt_open(STREET_CHAT, "time", 1), "an old question may be asked again"


async def test_the_daily_summary_counts_by_unit(core, clock):
    await report(core, "garbage", user=8001)
    await report(core, place=(26.095, 119.2185), user=8002)  # outside: the command centre's
    case, [call] = await called(core, clock, user=8003)
    clock.advance(hours=1, minutes=30)  # the call's answer is late (its check-in is not yet)
    summaries = DailySummaries(core.db, clock, core.settings, core.outbox_written)
    summary = await summaries.daily_summary(clock.now().astimezone(core.settings.tz).date())
    assert dict(summary.new) == {STREET: 2, CENTRE: 1}  # data: the command centre is named by ui/summary.py
    assert summary.overdue_departments["city_mgmt"] == 1
    assert ("GL-20261123-0003", "department", "city_mgmt", "answer") in summary.overdue_cases
    await summaries.send_daily_summary(summary.day)
    assert outbox(core)[-1] == ("daily_summary", COMMAND, None)
    data = rows(core, Outbox)[-1].payload["summary"]
    zh, en = summary_body(data, core.settings, "zh"), summary_body(data, core.settings, "en")
    assert "合计 | 3 | 0 |" in zh and "指挥中心 | 1 | 0 |" in zh and "区城管局 | 0 | 0 | 1 | 0" in zh
    assert "GL-20261123-0003 区城管局 响应呼叫" in zh
    assert "Total | 3 | 0 |" in en and "Command centre | 1 | 0 |" in en and "GL-20261123-0003" in en


async def test_delivery_is_woken_after_a_commit_that_wrote_messages_only(core):
    case = await report(core)
    woken = len(core.wakes)
    assert not (await core.lifecycle.accept(case.id, HANDLER, "h", -1)).ok  # refused: nothing written, nobody woken
    assert len(core.wakes) == woken
    assert (await core.lifecycle.accept(case.id, HANDLER, "h", STREET_CHAT)).ok
    assert len(core.wakes) == woken + 1

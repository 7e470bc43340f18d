"""Two replicas on one PostgreSQL database behind the webhook (PostgreSQL half of the suite only).

Each update handled once, a chat's updates one at a time across replicas, the outbox shared
(claimed rows, nothing sent twice), Telegram's limits held by the bot as a whole, and deadlines
fired once by separate processes.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import time

import pytest
from sqlalchemy import select

from bot.app import build_application, start_bot, stop_bot
from bot.outbox_claims import OutboxClaims
from bot.replicas import UpdateGate
from bot.shared_limits import SharedLimiter
from demo.district import District, free_port
from emulator.images import jpeg
from storage.db import Database
from storage.models import Case, Outbox
from storage.outbox import enqueue
from tests import pg
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not pg.URL, reason="replicas need PostgreSQL: set TEST_DATABASE_URL")
SECRET = "replica-secret"
STREET = "温泉街道"


@pytest.fixture
async def two(cfg, clock, tmp_path, monkeypatch):
    """The district's replica and a second one on the same database; the emulator balances between them."""
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    cfg.telegram.mode = "webhook"
    async with District(cfg, tmp_path, clock=clock) as d:
        other = copy.deepcopy(d.cfg)
        other.webhook.port = free_port()
        second = build_application(other, d.emu.token, clock=clock)
        await start_bot(second, poll_timeout=1)
        d.emu.webhook_targets = [d.app.bot_data["web"].url, second.bot_data["web"].url]
        try:
            yield d, second
        finally:
            await stop_bot(second)


async def test_reports_through_two_replicas_each_card_and_receipt_once(two):
    d, second = two
    point = d.core.streets.representative_point(STREET)
    citizens = [d.citizen(7300 + i) for i in range(8)]
    receipts = await asyncio.gather(*(d.report(c, jpeg(label=str(c.id)), *point) for c in citizens))
    async with d.core.sessions() as s:
        numbers = [c.number for c in await s.scalars(select(Case))]
    assert len(numbers) == 8 and all("GL-" in r["text"] for r in receipts)
    group = d.street_chat(STREET)
    await d.emu.wait_for(lambda: len([m for m in d.emu.messages(group) if m.get("photo")]) >= 8, timeout=20)
    rows = await d.outbox_settled(timeout=20)
    cards = [m["caption"] for m in d.emu.messages(group) if m.get("photo")]
    assert sorted(n for n in numbers for c in cards if n in c) == sorted(numbers), "each card once"
    for c in citizens:
        assert sum("GL-" in (m.get("text") or "") for m in d.emu.messages(c.id)) == 1, "each receipt once"
    assert all(r.status == "sent" and r.claimed_by is None for r in rows)
    used = {url for _, url, _ in d.emu.pusher.log}
    assert used == set(d.emu.webhook_targets), "both replicas took updates"
    assert d.app.bot_data["gate"].duplicates == second.bot_data["gate"].duplicates == 0


async def test_a_chats_updates_wait_for_each_other_across_replicas(database_url, clock):
    dbs = [Database(database_url), Database(database_url)]
    gates = [UpdateGate(db, clock.now) for db in dbs]
    spans: list[tuple[float, float]] = []

    async def slow():
        start = time.monotonic()
        await asyncio.sleep(0.2)
        spans.append((start, time.monotonic()))
    try:
        done = await asyncio.gather(*(gates[i % 2].handle(100 + i, 4242, slow) for i in range(4)),
                                    gates[0].handle(100, 4242, slow), gates[1].handle(101, 4242, slow))
    finally:
        for db in dbs:
            await db.dispose()
    assert sorted(done) == [False, False, True, True, True, True], "the two redeliveries were no-ops"
    spans.sort()
    assert len(spans) == 4 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), \
        "one chat's updates never overlapped, whichever replica had them"


async def test_many_chats_at_once_do_not_starve_the_handlers_of_connections(database_url, clock):
    """Telegram opens up to 40 webhook connections at once. Each update holds its chat's lock on a
    connection while its handler reads and writes through the work pool (20 + 20): the locks must
    not take the connections the handlers need (that stalled every handler for the pool's 30 s)."""
    db = Database(database_url)
    gate = UpdateGate(db, clock.now, parallel=40)
    read: list[int] = []

    async def handler():
        await asyncio.sleep(0.05)  # all 60 updates are in hand before the first one reads
        async with db.sessions() as s:
            read.append((await s.execute(select(Case.id).limit(1))).first() is None)

    try:
        done = await asyncio.wait_for(
            asyncio.gather(*(gate.handle(500 + i, 6000 + i, handler) for i in range(60))), timeout=15)
        assert db.engine.pool.checkedout() == 0
    finally:
        await gate.close()
        await db.dispose()
    assert done == [True] * 60 and len(read) == 60


async def test_two_replicas_claim_disjoint_outbox_rows(database_url, clock):
    dbs = [Database(database_url), Database(database_url)]
    claims = [OutboxClaims(dbs[i % 2]) for i in range(4)]  # four replicas, two engines
    now = clock.now()
    try:
        going = await dbs[0].write(lambda s: [(-1000 - i, enqueue(s, now, -1000 - i, "notice")) for i in range(40)])
        got = await asyncio.gather(*(c.claim(going, now) for c in claims))
        async with dbs[0].sessions() as s:
            owners = {r.id: r.claimed_by for r in await s.scalars(select(Outbox))}
    finally:
        for db in dbs:
            await db.dispose()
    mine = [{row for _, row in g} for g in got]
    assert sum(len(m) for m in mine) == 40 and set().union(*mine) == {row for _, row in going}
    assert all(owners[row] == claims[i].owner for i, m in enumerate(mine) for row in m)
    assert claims[1].held_elsewhere(now.replace(year=now.year + 1), claims[0].owner, now)


async def test_the_limits_hold_for_the_bot_as_a_whole(database_url):
    dbs = [Database(database_url), Database(database_url)]
    limiters = [SharedLimiter(db, group_window=5.0) for db in dbs]
    try:
        group = await asyncio.gather(*(limiters[i % 2].take(-1009) for i in range(30)))
        private = await asyncio.gather(*(limiters[i % 2].take(9000 + i) for i in range(40)))
    finally:
        for db in dbs:
            await db.dispose()
    assert group.count(0.0) == 20, "20 a minute in one group, however many replicas send"
    assert all(w > 0 for w in group if w)
    # 20 sends to the group are within the last second too: 10 more chats fit under 30 a second
    assert private.count(0.0) == 10


async def test_deadlines_fire_once_across_processes(district):
    d = district
    for i in range(10):
        await d.report(d.citizen(7400 + i), jpeg(label=str(i)), *d.core.streets.representative_point(STREET),
                       category="垃圾堆放")
    await d.outbox_settled()
    await d.stop_bot()

    async def fire_in_processes(n: int) -> list[int]:
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.replica_fire", d.cfg.database.url, str(d.cfg.media.dir),
            d.clock.now().isoformat(), cwd=ROOT, stdout=asyncio.subprocess.PIPE) for _ in range(n)]
        outs = await asyncio.gather(*(p.communicate() for p in procs))
        assert all(p.returncode == 0 for p in procs)
        return [int(out.strip()) for out, _ in outs]

    d.clock.advance(minutes=9)  # the early warnings are due
    warned = await fire_in_processes(3)
    d.clock.advance(minutes=2)  # and the lapses
    lapsed = await fire_in_processes(3)
    db = Database(d.cfg.database.url)
    try:
        async with db.sessions() as s:
            nags = [r for r in await s.scalars(select(Outbox).where(Outbox.kind == "notice"))
                    if r.payload["key"].startswith("dl_")]
    finally:
        await db.dispose()
    assert sum(warned) == 10 and sum(lapsed) == 10
    assert sorted(r.payload["key"] for r in nags) == ["dl_level1"] * 10 + ["dl_warn"] * 10
    assert len({(r.case_id, r.payload["key"]) for r in nags}) == 20


async def test_a_send_counts_from_when_it_finished(database_url):
    from storage.models import SentMessage
    db = Database(database_url)
    limiter = SharedLimiter(db)
    try:
        assert await limiter.take(-1010) == 0.0
        async with db.sessions() as s:
            taken = await s.scalar(select(SentMessage.at))
        await asyncio.sleep(0.3)  # a slow trip to Telegram
        await limiter.sent(-1010)
        async with db.sessions() as s:
            finished = await s.scalar(select(SentMessage.at))
    finally:
        await db.dispose()
    assert (finished - taken).total_seconds() >= 0.3

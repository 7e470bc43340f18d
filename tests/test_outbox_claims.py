"""Outbox claims: a row held by one replica is left alone by the others until it is released, or
its lease runs out (the replica died)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.outbox_claims import OutboxClaims
from storage.db import Database, migrate
from storage.models import Outbox
from storage.outbox import enqueue


async def test_a_dead_replicas_rows_go_to_another_after_the_lease_and_a_clean_stop_frees_them(database_url, clock):
    migrate(database_url)
    db = Database(database_url)
    now = clock.now()
    a, b = OutboxClaims(db, lease_s=30, shared=True), OutboxClaims(db, lease_s=30, shared=True)
    try:
        ids = await db.write(lambda s: [enqueue(s, now, -1001, "notice"), enqueue(s, now, -1002, "notice")])
        going = list(zip((-1001, -1002), ids, strict=True))
        assert await a.claim(going, now) == going
        assert await b.claim(going, now + timedelta(seconds=29)) == [], "held by a live replica"
        assert await a.claim(going, now + timedelta(seconds=1)) == going, "a replica may take its own again"
        assert await b.claim(going[:1], now + timedelta(seconds=32)) == going[:1], "the lease ran out"
        await a.release_all()  # a stops cleanly: what it still held is free at once
        async with db.sessions() as s:
            held = {r.id: r.claimed_by for r in await s.scalars(select(Outbox))}
        assert held == {going[0][1]: b.owner, going[1][1]: None}
    finally:
        await db.dispose()


async def test_on_sqlite_one_process_owns_the_outbox_and_claims_nothing(tmp_path, clock):
    """No replicas on SQLite: a bot restarted after a crash must not wait out its dead self's lease."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}"
    migrate(url)
    db = Database(url)
    now = clock.now()
    try:
        dead, restarted = OutboxClaims(db, lease_s=30), OutboxClaims(db, lease_s=30)
        going = [(-1001, await db.write(lambda s: enqueue(s, now, -1001, "notice")))]
        assert await dead.claim(going, now) == going
        assert not restarted.held_elsewhere(now + timedelta(seconds=30), dead.owner, now)
        assert await restarted.claim(going, now + timedelta(seconds=1)) == going
    finally:
        await db.dispose()

"""Several replicas on one PostgreSQL database, behind one webhook.

* Each update is handled once: its `update_id` is stored when it has been handled, and a redelivery
  (Telegram retries when it got no 200, e.g. from a replica that died) of a stored one is a no-op.
* One chat's updates are handled in order, whichever replica they land on: the handling runs under a
  per-chat lock: an asyncio lock within the process and, on PostgreSQL, a session advisory lock on the
  chat id, held by a connection of its own (a replica that dies releases it with its connection).
An update whose handling did not finish (crash) is not stored, so its redelivery is handled again:
at least once, and the core's conditional updates make a repeat change nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import HandledUpdate

log = logging.getLogger(__name__)
KEEP = timedelta(days=2)  # Telegram keeps an undelivered update for 24 hours


class UpdateGate:
    def __init__(self, db, now, parallel: int = 40):
        """parallel: updates handled at once (Telegram's webhook max_connections); more wait their turn."""
        self.db, self.now = db, now
        self.postgres = db.engine.dialect.name == "postgresql"
        self._locks: dict[int, asyncio.Lock] = {}
        self._room = asyncio.Semaphore(parallel)
        # Each update holds its chat's advisory lock on a connection for as long as it is handled. Taken
        # from the work pool, 40 updates at once held all of its 40 connections and then waited for one
        # more to read with: every handler stalled until the pool's 30 s timeout. So the locks have a
        # pool of their own, one connection per update in hand.
        self._lock_engine = create_async_engine(db.engine.url, pool_size=parallel, max_overflow=0) \
            if self.postgres else None
        self.duplicates = 0  # redeliveries dropped (read by the metrics)

    async def close(self) -> None:
        if self._lock_engine is not None:
            await self._lock_engine.dispose()

    async def handle(self, update_id: int, chat_key: int | None, run) -> bool:
        """Run `run()` for this update unless it was handled already; False when it was a repeat."""
        async with self._room, self._chat_lock(chat_key):
            async with self.db.sessions() as session:
                seen = await session.get(HandledUpdate, update_id)
            if seen is not None:
                self.duplicates += 1
                log.info("update %s was handled already: dropped", update_id)
                return False
            await run()
            try:
                await self.db.write(lambda s: s.add(HandledUpdate(update_id=update_id, at=self.now())))
            except IntegrityError:  # a chat-less update handled at the same moment elsewhere
                pass
            return True

    @asynccontextmanager
    async def _chat_lock(self, key: int | None):
        if key is None:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # FIFO within the process; one database connection per chat at most
                if not self.postgres:
                    yield
                    return
                async with self._lock_engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                    try:
                        yield
                    finally:
                        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def sweep(self) -> int:
        """Forget handled updates older than Telegram would redeliver them."""
        cutoff: datetime = self.now() - KEEP
        return await self.db.write(lambda s: s.execute(delete(HandledUpdate).where(HandledUpdate.at < cutoff)).rowcount)

    async def seen(self, update_id: int) -> bool:
        async with self.db.sessions() as session:
            return await session.scalar(select(HandledUpdate.update_id).where(
                HandledUpdate.update_id == update_id)) is not None

"""The outbox delivery worker: sends what the core queued, within Telegram's limits.

PTB does not retry by itself. Here: 429 waits `retry_after` (for that chat, or everyone when the
limit was global), 5xx and network errors back off exponentially, 400/403 fail the row for good.
A timed-out send may have reached Telegram: it is retried (a message lost is worse than a
message twice) and the row's log says so. Finished steps of a row are saved, so a restart or
retry resumes where it stopped instead of sending the photos again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.flood import IN_OUTBOX
from bot.flood import seconds as flood_seconds
from bot.outbox_claims import OutboxClaims
from bot.shared_limits import SharedLimiter
from storage import prepared
from storage.models import Outbox
from storage.outbox import CHANNEL_CHAT
from storage.placed import Sent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


@dataclass
class Step:
    """One message of an outbox row. `run` sends it and returns its message ids, or a storage.placed.Sent
    with what the database learns from it (the delivery worker writes that with the step's progress)."""
    name: str
    run: Callable[[], Awaitable[list[int] | Sent]]


class RateLimiter:
    """Telegram's published limits: ~30 msg/s overall, 20/min per group, ~1/s per private chat."""

    # The windows are a little longer than Telegram's: a message's trip to Telegram varies, and the
    # limit applies to when Telegram sees it (the benchmark saw 21 in 60 s with an exact 60 s window).
    def __init__(self, per_second: int = 30, per_group_minute: int = 20, private_interval: float = 1.05,
                 group_window: float = 61.0, second_window: float = 1.05):
        self.per_second, self.per_group_minute, self.private_interval = per_second, per_group_minute, private_interval
        self.group_window, self.second_window = group_window, second_window
        self.recent: deque[float] = deque()
        self.by_chat: dict[int, deque[float]] = {}
        self.paused_until: dict[int | None, float] = {}

    def wait(self, chat_id: int, now: float) -> float:
        """Seconds until one more message to `chat_id` is allowed (0: now)."""
        waits = [self.paused_until.get(None, 0) - now, self.paused_until.get(chat_id, 0) - now]
        if self._sent_last_second(now) >= self.per_second:
            waits.append(self.recent[0] + self.second_window - now)
        sent = self.by_chat.get(chat_id)
        if sent:
            if chat_id < 0:
                while sent and sent[0] <= now - self.group_window:
                    sent.popleft()
                if len(sent) >= self.per_group_minute:
                    waits.append(sent[0] + self.group_window - now)
            else:
                waits.append(sent[-1] + self.private_interval - now)
        return max(0.0, *waits)

    def _sent_last_second(self, now: float) -> int:
        while self.recent and self.recent[0] <= now - self.second_window:
            self.recent.popleft()
        return len(self.recent)

    def room(self, now: float) -> int:
        """How many more messages the overall limit allows right now."""
        paused = self.paused_until.get(None, 0) > now
        return 0 if paused else max(0, self.per_second - self._sent_last_second(now))

    def wait_overall(self, now: float) -> float:
        """Seconds until the overall limit lets one more message through (0: now)."""
        if self.room(now):
            return 0.0
        return max(0.0, self.paused_until.get(None, 0) - now,
                   self.recent[0] + self.second_window - now if self.recent else 0.0)

    def record(self, chat_id: int, now: float) -> None:
        self.reserve(now)
        self.record_chat(chat_id, now)

    def reserve(self, now: float) -> None:
        """Count a send against the overall limit as it starts (sends to different chats run at once)."""
        self.recent.append(now)

    def record_chat(self, chat_id: int, now: float) -> None:
        """Count a send against its chat when it has finished: Telegram saw it no later than that, so
        the next one, timed from here, cannot reach it early however long this one took on the way."""
        # A private chat needs only its last send; a group, its sends within the window.
        self.by_chat.setdefault(chat_id, deque(maxlen=None if chat_id < 0 else 1)).append(now)

    def blocked(self, now: float) -> list[int]:
        """Chats that must wait now. Their rows are left out of the next batch, so a backlog of group
        cards held by the 20-a-minute limit cannot starve private replies queued behind it."""
        idle = [c for c, sent in self.by_chat.items()
                if not sent or sent[-1] < now - (self.group_window if c < 0 else self.private_interval)]
        for chat_id in idle:  # forget chats whose window has passed: the dict stays small
            del self.by_chat[chat_id]
        paused = [c for c, until in self.paused_until.items() if c is not None and until > now]
        return sorted({*paused, *(c for c in self.by_chat if self.wait(c, now) > 0)})

    def pause(self, chat_id: int | None, seconds: float, now: float) -> None:
        self.paused_until[chat_id] = max(self.paused_until.get(chat_id, 0), now + seconds)


class Delivery:
    def __init__(self, db, renderer, limiter: RateLimiter | None = None, batch: int = 200, parallel: int = 16):
        self.db, self.sessions, self.renderer = db, db.sessions, renderer
        self.limiter = limiter or RateLimiter()
        self.batch, self.parallel = batch, parallel  # parallel: chats sent to at once
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.idle = asyncio.Event()  # set whenever a pass found nothing left to do now
        self._stopping = False
        # Replicas share the outbox: a row is claimed before it is sent (bot/outbox_claims.py), and on
        # PostgreSQL every send is counted against the bot-wide limits too (bot/shared_limits.py).
        self.claims = OutboxClaims(db)
        self.shared = SharedLimiter(db, self.limiter.per_second, self.limiter.per_group_minute) \
            if db.engine.dialect.name == "postgresql" else None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-delivery")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the call under way and record it (so a restart does not repeat it), then stop."""
        if not self._task:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, grace)
        except TimeoutError:  # wait_for has cancelled it
            pass
        try:
            await self.claims.release_all()
        except Exception:  # the database may be what is going away
            log.exception("could not release the outbox rows this replica held")

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a wake during the pass must not be lost
            try:
                pause = await self.run_once()
            except Exception:  # the worker must outlive a bad row or a database hiccup
                log.exception("outbox pass failed")
                pause = 1.0
            if pause is None:
                self.idle.set()
                pause = 5.0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(pause, 0.005))
            except TimeoutError:
                pass
            self.idle.clear()

    async def run_once(self) -> float | None:
        """One pass over due rows. Returns seconds until the next send may happen, None if none waits."""
        now_wall, now = datetime.now(UTC), time.monotonic()
        blocked = self.limiter.blocked(now)
        # Ids and chats first, whole rows only for what goes now: with a backlog held by the limits,
        # a pass that loaded (and decoded) every waiting row cost more than the sends it made.
        # Channel callbacks (chat 0) go over HTTP by their own worker (api/callbacks.py), never here.
        pending = prepared.QUEUED  # built once (storage/prepared.py); chats held by the limits left out
        if blocked:
            pending = pending.where(Outbox.chat_id.not_in(blocked))
        async with self.sessions() as session:
            listed = (await session.execute(pending, {"channel": CHANNEL_CHAT, "batch": self.batch})).all()
            later = await session.scalar(prepared.NEXT_RETRY, {"channel": CHANNEL_CHAT, "now": now_wall})
        next_wait = None if later is None else (later - now_wall).total_seconds()
        if blocked:  # come back when the first of the left-out chats may send again
            soonest = min(self.limiter.wait(c, now) for c in blocked)
            next_wait = soonest if next_wait is None else min(next_wait, soonest)
        # The oldest row of each chat goes this pass, several chats at once, as many as the overall
        # limit lets through now; a chat's later rows wait for the next pass, and a chat whose oldest
        # row waits for its retry waits with it: each chat's messages arrive in the order decided.
        # A chat whose oldest row another replica is sending waits for it: its order holds across replicas.
        firsts: dict[int, tuple[int, datetime | None]] = {}
        queued = Counter(chat_id for _, chat_id, *_ in listed)
        for row_id, chat_id, not_before, claimed_until, claimed_by in listed:
            if self.claims.held_elsewhere(claimed_until, claimed_by, now_wall):
                not_before = max(not_before or claimed_until, claimed_until)
            firsts.setdefault(chat_id, (row_id, not_before))
        ready = [(chat_id, row_id) for chat_id, (row_id, not_before) in firsts.items()
                 if (not_before is None or not_before <= now_wall) and not self.limiter.wait(chat_id, now)]
        going = ready[:self.limiter.room(now)]
        if len(going) < len(ready) or any(queued[chat_id] > 1 for chat_id, _ in going):
            overall = self.limiter.wait_overall(now)  # more to send as soon as the limits allow
            next_wait = overall if next_wait is None else min(next_wait, overall)
        rows = []
        if going:
            going = await self.claims.claim(going, now_wall)
        if going:
            async with self.sessions() as session:
                rows = list(await session.scalars(prepared.OUTBOX_ROWS, {"ids": [r for _, r in going]}))
        gate = asyncio.Semaphore(self.parallel)

        async def one(row: Outbox) -> float:
            async with gate:
                if self._stopping:
                    return 0
                wait = self.limiter.wait(row.chat_id, time.monotonic())  # before rendering: cheap first
                return wait or await self.deliver(row)
        for wait in await asyncio.gather(*(one(r) for r in rows)):
            if wait:
                next_wait = wait if next_wait is None else min(next_wait, wait)
        return None if self._stopping else next_wait

    async def deliver(self, row: Outbox) -> float:
        """Send a row's remaining steps; returns seconds until it may go on (0: done or failed for good)."""
        try:
            steps = await self.renderer.steps(row)
        except Exception as exc:
            log.exception("cannot render outbox row %s", row.id)
            await self._finish(row, "failed", f"render: {exc!r}")
            return 0
        done, learned = list(row.payload.get("done", [])), []
        for step in steps:
            if step.name in done:
                continue
            if self._stopping:
                await self._save_progress(row, done)
                return 0
            wait = self.limiter.wait(row.chat_id, time.monotonic())
            if not wait and self.shared:
                wait = await self.shared.take(row.chat_id)
            if wait:
                return wait
            self.limiter.reserve(time.monotonic())
            try:
                sent = await self._timed(row.chat_id, step)
                ids, learned = (sent.message_ids, sent.learned) if isinstance(sent, Sent) else (sent, [])
            except RetryAfter as exc:
                seconds = flood_seconds(exc.retry_after)
                self.limiter.pause(row.chat_id, seconds, time.monotonic())
                return await self._retry(row, done, f"429 retry after {seconds}s", seconds, count=False)
            except TimedOut:
                return await self._retry(row, done, f"timed out at step {step.name}: may have been delivered")
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    ids, learned = [], []  # the card already shows this state
                else:
                    await self._finish(row, "failed", f"400 at {step.name}: {exc.message}", done)
                    return 0
            except Forbidden as exc:  # blocked by the user, or removed from the group
                await self._finish(row, "failed", f"403 at {step.name}: {exc.message}", done)
                return 0
            except NetworkError as exc:  # 5xx and connection errors
                return await self._retry(row, done, f"network error at {step.name}: {exc.message}")
            except Exception as exc:  # a bug while rendering: fail this row, keep delivering the others
                log.exception("outbox %s: step %s crashed", row.id, step.name)
                await self._finish(row, "failed", f"crash at {step.name}: {exc!r}", done)
                return 0
            done.append(step.name)
            row.message_ids = [*row.message_ids, *(ids or [])]
            if len(done) < len(steps):  # the last step's progress is saved with the row's end
                await self._save_progress(row, done, learned)
                learned = []
        await self._finish(row, "sent", None, done, learned)
        return 0

    async def _timed(self, chat_id: int, step):
        token = IN_OUTBOX.set(True)  # our 429s come back to us (bot/flood.py)
        try:
            return await step.run()
        finally:  # counted when it ends, whatever happened: a failed send may still have reached Telegram
            IN_OUTBOX.reset(token)
            self.limiter.record_chat(chat_id, time.monotonic())
            if self.shared:
                await self.shared.sent(chat_id)

    async def _update(self, row_id: int, learned=(), **values) -> None:
        """The row's progress, and what its last step taught the database (where a card is), together."""
        def tx(session):
            session.execute(prepared.set_outbox(frozenset(values)), {"row": row_id, **{"v_" + k: v
                                                                                      for k, v in values.items()}})
            for fact in learned:
                fact.write(session)
        await self.db.write(tx)

    async def _save_progress(self, row: Outbox, done: list[str], learned=()) -> None:
        row.payload = {**row.payload, "done": done}
        await self._update(row.id, learned, payload=row.payload, message_ids=row.message_ids, **self.claims.renewed())

    async def _retry(self, row: Outbox, done: list[str], why: str, delay: float | None = None,
                     count: bool = True) -> float:
        attempts = row.attempts + (1 if count else 0)
        if attempts >= MAX_ATTEMPTS:
            await self._finish(row, "failed", f"gave up after {attempts} attempts: {why}", done)
            return 0
        delay = delay if delay is not None else min(2 ** attempts * 0.5, 300)
        row.attempts, row.log = attempts, [*row.log, why]
        row.payload = {**row.payload, "done": done}
        await self._update(row.id, attempts=attempts, log=row.log, payload=row.payload,
                           not_before=datetime.now(UTC) + timedelta(seconds=delay), **self.claims.released())
        log.warning("outbox %s: %s; retry in %.1fs", row.id, why, delay)
        return delay

    async def _finish(self, row: Outbox, status: str, why: str | None, done: list[str] | None = None,
                      learned=()) -> None:
        values = {"status": status, "sent_at": datetime.now(UTC), "message_ids": row.message_ids,
                  "log": [*row.log, why] if why else row.log, **self.claims.released()}
        if done is not None:
            values["payload"] = {**row.payload, "done": done}
        await self._update(row.id, learned, **values)
        if status == "failed":
            log.error("outbox %s failed: %s", row.id, why)

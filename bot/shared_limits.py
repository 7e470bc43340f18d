"""Telegram's limits for the bot as a whole when several replicas send (PostgreSQL only).

Each replica's RateLimiter (bot/delivery.py) keeps its own sends in line; this adds the others':
every outbox send is first recorded in `sent_messages`, in a transaction that holds one advisory
lock, so two replicas cannot both take the 30th slot of a second or the 20th of a group's minute.
A send that would break a limit is not recorded and the caller waits the returned seconds. When the
send has finished its slot is moved to that moment (`sent`), as the local limiter counts a chat's
sends: however long one trip took, the next one cannot reach Telegram early.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from storage.models import SentMessage

LOCK_KEY = 0x46524F4E544C494D  # "FRONTLIM": far outside the chat ids the per-chat locks use


class SharedLimiter:
    def __init__(self, db, per_second: int = 30, per_group_minute: int = 20, private_interval: float = 1.05,
                 group_window: float = 61.0, second_window: float = 1.05):
        self.db = db
        self.per_second, self.per_group_minute = per_second, per_group_minute
        self.private_interval, self.group_window, self.second_window = private_interval, group_window, second_window
        self._slots: dict[int, int] = {}  # chat -> the slot of its send under way (one at a time per chat)

    async def take(self, chat_id: int) -> float:
        """0 when a send to chat_id may go now (and it is counted); else seconds to wait."""
        wait, slot = await self.db.write(self._take, chat_id, datetime.now(UTC))
        if slot is not None:
            self._slots[chat_id] = slot
        return wait

    async def sent(self, chat_id: int) -> None:
        """The send to chat_id has finished: its slot counts from now."""
        slot = self._slots.pop(chat_id, None)
        if slot is not None:
            now = datetime.now(UTC)
            await self.db.write(lambda s: s.execute(update(SentMessage).where(SentMessage.id == slot).values(at=now)))

    def _take(self, session: Session, chat_id: int, now: datetime) -> tuple[float, int | None]:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        second_ago = now - timedelta(seconds=self.second_window)
        recent = session.execute(select(func.count(), func.min(SentMessage.at))
                                 .where(SentMessage.at > second_ago)).one()
        waits = []
        if recent[0] >= self.per_second:
            waits.append((recent[1] - second_ago).total_seconds())
        if chat_id < 0:
            start = now - timedelta(seconds=self.group_window)
            n, first = session.execute(select(func.count(), func.min(SentMessage.at)).where(
                SentMessage.chat_id == chat_id, SentMessage.at > start)).one()
            if n >= self.per_group_minute:
                waits.append((first - start).total_seconds())
        else:
            last = session.scalar(select(func.max(SentMessage.at)).where(SentMessage.chat_id == chat_id))
            if last is not None and last > now - timedelta(seconds=self.private_interval):
                waits.append((last + timedelta(seconds=self.private_interval) - now).total_seconds())
        if waits:
            return max(0.01, *waits), None
        slot = SentMessage(chat_id=chat_id, at=now)
        session.add(slot)
        if random.random() < 0.02:  # forget what no window looks at any more
            session.execute(delete(SentMessage).where(SentMessage.at < now - timedelta(seconds=2 * self.group_window)))
        session.flush()
        return 0.0, slot.id

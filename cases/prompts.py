"""Questions the bot asks and finishes on the answer: in a group a reason or a typed time (ForceReply);
in a citizen's chat the optional comment after a rating. Kept in the database: a restart between
the question and the answer loses nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import prepared
from storage.models import Prompt


class Prompts:
    """A service, not a mixin of Core: the database and the clock are all it needs."""

    def __init__(self, db, clock):
        self.db, self.sessions, self.clock = db, db.sessions, clock

    def now(self):
        return self.clock.now()

    async def save_prompt(self, chat_id: int, message_id: int, kind: str, target_id: int, user_id: int,
                          data: dict | None = None) -> None:
        now = self.now()

        def tx(session: Session) -> None:
            session.add(Prompt(chat_id=chat_id, message_id=message_id, kind=kind, target_id=target_id,
                               data=data or {}, asked_by=user_id, created_at=now))
        await self.db.write(tx)

    async def prompt_open(self, chat_id: int, kind: str, target_id: int) -> bool:
        """Already asked, unanswered and recent: a second tap does not ask twice."""
        since = self.now() - timedelta(minutes=10)
        async with self.sessions() as session:
            return await session.scalar(select(Prompt.id).where(
                Prompt.chat_id == chat_id, Prompt.kind == kind, Prompt.target_id == target_id,
                Prompt.used_at.is_(None), Prompt.created_at > since).limit(1)) is not None

    async def prompt_at(self, chat_id: int, message_id: int) -> Prompt | None:
        async with self.sessions() as session:
            return await session.scalar(select(Prompt).where(Prompt.chat_id == chat_id,
                                                             Prompt.message_id == message_id))

    async def open_prompt(self, chat_id: int, kind: str, within: timedelta = timedelta(days=1)) -> Prompt | None:
        """The newest unanswered question of this kind in the chat, if asked within `within`."""
        async with self.sessions() as session:
            return await session.scalar(prepared.OPEN_PROMPT, {"chat": chat_id, "of_kind": kind,
                                                               "since": self.now() - within})

    async def set_prompt_place(self, prompt_id: int, lat: float, lon: float, title: str | None) -> None:
        def tx(session: Session) -> None:
            prompt = session.get(Prompt, prompt_id)
            prompt.data = {**prompt.data, "place": {"lat": lat, "lon": lon, "title": title}}
        await self.db.write(tx)

    async def claim_prompt(self, prompt_id: int) -> bool:
        """One answer per question: a second reply (or two members at once) finds it used."""
        now = self.now()

        def tx(session: Session) -> bool:
            return session.execute(update(Prompt).where(Prompt.id == prompt_id, Prompt.used_at.is_(None))
                                   .values(used_at=now)).rowcount == 1
        return await self.db.write(tx)

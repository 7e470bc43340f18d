"""Copies of a card the database does not know yet.

Delivery sends a card again when its send timed out (it may have arrived: a card lost is worse
than a card twice), and a process killed between a send and its record does the same after the
restart. The group then holds a copy the database never heard of. When someone taps or replies to
it, the handler layer identifies its case (handlers/copies.py) and this records the copy as a card
of its own and queues an edit that brings that copy up to date; from then on it is edited with
the others (bot/cards.py edits every Card row of a case).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Call, Card, Case
from storage.outbox import enqueue

log = logging.getLogger(__name__)


@dataclass
class Copy:
    """What a message says it is: a card kind (street | routing | call | track), the case number in
    its title, the round the title names, and the id its buttons carry (the case's or the call's)."""

    kind: str
    number: str
    round: int = 0
    target_id: int | None = None


class CardCopies:
    def __init__(self, db, clock, settings, directory, on_outbox: Callable[[], None] = lambda: None):
        self.db, self.clock, self.settings, self.on_outbox = db, clock, settings, on_outbox
        self.directory = directory  # cases/directory.py

    async def record(self, chat_id: int, message_id: int, caption: bool, found: Copy) -> bool:
        """Record the message as a copy of its card if it is one in the right group; True if recorded."""
        now = self.clock.now()

        def tx(session: Session) -> bool:
            if session.scalar(select(Card.id).where(Card.chat_id == chat_id, Card.message_id == message_id)):
                return False  # known already (two taps at once)
            case = session.scalar(select(Case).where(Case.number == found.number))
            if case is None or found.round > case.reopen_count:
                return False
            kind, call_id = self._card_kind(session, case, chat_id, found)
            if kind is None:
                return False
            session.add(Card(case_id=case.id, kind=kind, chat_id=chat_id, message_id=message_id, caption=caption,
                             round=found.round))
            if call_id is None:
                enqueue(session, now, chat_id, "refresh_card", case.id, card=kind, message_id=message_id)
            else:
                enqueue(session, now, chat_id, "refresh_call", case.id, call_id=call_id, message_id=message_id)
            log.info("message %s in %s is a copy of %s's %s card", message_id, chat_id, case.number, kind)
            return True
        recorded = await self.db.write(tx)
        if recorded:
            self.on_outbox()
        return recorded

    def _card_kind(self, session: Session, case: Case, chat_id: int, found: Copy) -> tuple[str | None, int | None]:
        """The Card.kind the copy is (and its call, for a call card), or None if it cannot be this chat's."""
        if found.kind in ("street", "routing"):
            owner = self.directory.owner_chat(case) if found.kind == "street" else self.settings.command_chat
            same = found.target_id in (None, case.id)
            return (found.kind, None) if same and owner == chat_id else (None, None)
        if found.kind not in ("call", "track"):
            return None, None
        calls = session.scalars(select(Call).where(Call.case_id == case.id).order_by(Call.id.desc())).all()
        for call in calls:  # its buttons name the call; a card without buttons, the newest of this group's
            if found.target_id not in (None, call.id):
                continue
            chat = self.directory.department_chat(call.department) if found.kind == "call" \
                else self.directory.tracker_chat(call.department)
            if chat == chat_id:
                return f"{found.kind}{call.id}", call.id
        return None, None

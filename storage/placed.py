"""What delivering a message teaches the database: where a card now is, and the file ids Telegram gave
the staff's copies of stripped photos. The renderer returns these with the message ids; the delivery
worker writes them in the transaction that records the step as done (rendering writes nothing, and a
card is never sent without its place being kept with the step)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Card, Photo


@dataclass(frozen=True)
class CardPlaced:
    """Every message is a row: a card sent twice (a timed-out send that had arrived) has two, and a
    reopened case's new card sits beside its old rounds' ones."""
    case_id: int
    kind: str
    chat_id: int
    message_id: int
    caption: bool
    round: int = 0

    def write(self, session: Session) -> None:
        if session.scalar(select(Card.id).where(Card.chat_id == self.chat_id,
                                                Card.message_id == self.message_id)) is None:
            session.add(Card(case_id=self.case_id, kind=self.kind, chat_id=self.chat_id,
                             message_id=self.message_id, caption=self.caption, round=self.round))


@dataclass(frozen=True)
class StaffFileIds:
    """photo id -> the file id of the copy staff saw (stripped of its metadata), sent once, reused after."""
    learned: dict[int, str] = field(default_factory=dict)

    def write(self, session: Session) -> None:
        for photo_id, file_id in self.learned.items():
            session.execute(update(Photo).where(Photo.id == photo_id).values(staff_file_id=file_id))


@dataclass
class Sent:
    """What a delivery step did: the messages it sent and what they teach the database."""
    message_ids: list[int]
    learned: list = field(default_factory=list)  # CardPlaced | StaffFileIds

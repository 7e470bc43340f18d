"""Writing to the outbox: the only way the core sends anything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Outbox


def enqueue(session: Session, now: datetime, chat_id: int, kind: str,
            case_id: int | None = None, **payload) -> Outbox:
    row = Outbox(created_at=now, chat_id=chat_id, kind=kind, case_id=case_id, payload=payload,
                 status="pending", attempts=0, message_ids=[], log=[])
    session.add(row)
    return row

"""Writing to the outbox: the only way the core sends anything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Outbox

# A case filed through an intake channel (the Open311 API) has this as its reporter's chat: what the
# core tells "the reporter" becomes a `callback` row, POSTed to the channel's callback_url over HTTP
# (api/callbacks.py) and never seen by the Telegram delivery worker. Telegram ids are never 0.
CHANNEL_CHAT = 0


def enqueue(session: Session, now: datetime, chat_id: int, kind: str,
            case_id: int | None = None, **payload) -> Outbox:
    if chat_id == CHANNEL_CHAT:
        payload = {"event": payload.get("key") or kind}
        kind = "callback"
    row = Outbox(created_at=now, chat_id=chat_id, kind=kind, case_id=case_id, payload=payload,
                 status="pending", attempts=0, message_ids=[], log=[])
    session.add(row)
    return row

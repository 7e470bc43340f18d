"""Writing to the outbox: the only way the core sends anything."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from storage import prepared

# A case filed through an intake channel (the Open311 API) has this as its reporter's chat: what the
# core tells "the reporter" becomes a `callback` row, POSTed to the channel's callback_url over HTTP
# (api/callbacks.py) and never seen by the Telegram delivery worker. Telegram ids are never 0.
CHANNEL_CHAT = 0


class OutboxKind(StrEnum):
    """What an outbox row asks for; each has one renderer (bot/cards.py, checked when the bot starts), and a
    kind not listed here is refused when the row is written, not found at delivery."""
    STREET_CARD = "street_card"  # the case's card in its street's group
    ROUTING_CARD = "routing_card"  # the command centre's card for a case no street holds
    REFRESH_CARD = "refresh_card"  # a case card edited to its current state
    CALL_CARD = "call_card"  # a called department's card
    REFRESH_CALL = "refresh_call"
    DECLINED_NOTICE = "declined_notice"  # a department declined a call: the street may dispute it
    EXTENSION_REQUEST = "extension_request"
    DIFFICULT_CARD = "difficult_card"  # 疑难: to the duty leaders
    RATING_REQUEST = "rating_request"  # the citizen rates the result
    RATE_DEPARTMENT = "rate_department"  # the street rates the department (互评)
    RATE_CALL = "rate_call"  # the department rates the call
    VERIFY_CARD = "verify_card"  # 核查结案: the verifiers' card
    RECEIPT = "receipt"  # the reporter's receipt
    NOTICE = "notice"  # one text by key, in the reader's language
    DAILY_SUMMARY = "daily_summary"  # the command centre's day in numbers (ui/summary.py)
    CALLBACK = "callback"  # to an intake channel over HTTP (api/callbacks.py), never to Telegram


def enqueue(session: Session, now: datetime, chat_id: int, kind: str,
            case_id: int | None = None, **payload) -> int:
    """Queue a message in the transaction that decided it; returns the row's id."""
    kind = OutboxKind(kind)  # a misspelt kind fails in the transaction that writes it
    if chat_id == CHANNEL_CHAT:
        payload = {"event": payload.get("key") or kind}
        kind = OutboxKind.CALLBACK
    row = {"created_at": now, "chat_id": chat_id, "kind": kind, "case_id": case_id, "payload": payload,
           "status": "pending", "attempts": 0, "message_ids": [], "log": []}
    return session.execute(prepared.ADD_OUTBOX, row).inserted_primary_key[0]

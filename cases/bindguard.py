"""What keeps /bind safe (issue 11): codes of 80 bits that expire and are used once, wrong guesses
throttled per chat and per user, and grid workers who can be revoked. Plain functions on a database
session, called inside the binding transactions (cases/binding.py) and the intake's."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import BindCode, BindFailure, GridWorker

CODE_BYTES = 10  # 80 bits: 16 base32 characters (A-Z, 2-7), typed in either case
MAX_FAILURES = 5  # wrong codes per chat, and per user, within FAILURE_WINDOW
FAILURE_WINDOW = timedelta(hours=1)


def new_code(session: Session, kind: str, target: str, now: datetime) -> str:
    code = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    session.add(BindCode(code=code, kind=kind, target=target, created_at=now))
    return code


def usable(row: BindCode | None, now: datetime, ttl: timedelta) -> bool:
    return row is not None and row.used_at is None and row.created_at + ttl > now


def throttled(session: Session, chat_id: int, user_id: int, now: datetime) -> bool:
    """Too many wrong codes lately, from this chat or from this user (in any chat)."""
    since = now - FAILURE_WINDOW
    counts = session.execute(select(
        func.count().filter(BindFailure.chat_id == chat_id), func.count().filter(BindFailure.user_id == user_id))
        .where(BindFailure.at > since, or_(BindFailure.chat_id == chat_id, BindFailure.user_id == user_id))).one()
    return max(counts) >= MAX_FAILURES


def record_failure(session: Session, chat_id: int, user_id: int, now: datetime) -> None:
    session.add(BindFailure(chat_id=chat_id, user_id=user_id, at=now))


def revoked(session: Session, user_id: int) -> bool:
    """A revoked grid worker: checked where the fast flow starts, so a revocation by the command line
    (another process) counts at once."""
    return session.scalar(select(GridWorker.revoked_at).where(GridWorker.user_id == user_id)) is not None


def revoke(session: Session, user_id: int, grid: str | None, by: int | None, now: datetime) -> str | None:
    """Revoke a grid worker (registered with a code or listed in config.yaml): returns their grid, or
    None when they are no worker."""
    row = session.get(GridWorker, user_id)
    if row is None:
        if grid is None:
            return None
        row = GridWorker(user_id=user_id, grid=grid, registered_at=now)
        session.add(row)
    elif row.revoked_at is not None:
        return None
    row.revoked_at, row.revoked_by = now, by
    return row.grid

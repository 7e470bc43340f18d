"""Small facts every replica writes and the health check reads (the `service_state` table)."""

from __future__ import annotations

from datetime import datetime

from storage.models import ServiceState

DEADLINES = "deadlines"  # when the deadline pass last ran, on any replica


async def record_deadline_run(db, now: datetime) -> None:
    """The deadline pass ran (scheduler.py): one row every replica moves forward."""
    def upsert(session):
        row = session.get(ServiceState, DEADLINES)
        if row is None:
            session.add(ServiceState(key=DEADLINES, at=now))
        elif row.at < now:
            row.at = now
    await db.write(upsert)

"""One outbox, several replicas: a row is claimed before it is sent.

The claim is `SELECT … FOR UPDATE SKIP LOCKED` on the rows a pass chose (a row another replica is
claiming at that moment is skipped, not waited for) and an UPDATE that stamps them with this replica
and a lease. A pass leaves alone a chat whose oldest pending row another replica holds, so a chat's
messages keep their order across replicas. The lease is renewed at every finished step of a row
and released when the row is sent, failed or put back for a retry; if the replica dies, another
takes the row when the lease runs out (a send that was under way may then arrive twice: the row's
log says so). SQLite has no FOR UPDATE and replicas need PostgreSQL (a webhook and a shared
database): on SQLite one process owns the outbox, so there is no claim at all, and a bot restarted after
a crash sends its rows at once instead of waiting out the dead process's lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import Outbox

CLAIM_S = float(os.environ.get("FRONTLINE_OUTBOX_CLAIM_S", 30))


class OutboxClaims:
    def __init__(self, db, lease_s: float = CLAIM_S, shared: bool | None = None):
        self.db, self.lease = db, timedelta(seconds=lease_s)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # shared: other replicas may deliver from this outbox (PostgreSQL); else claims are skipped
        self.shared = db.engine.dialect.name == "postgresql" if shared is None else shared

    def held_elsewhere(self, claimed_until: datetime | None, claimed_by: str | None, now: datetime) -> bool:
        return self.shared and claimed_until is not None and claimed_until > now and claimed_by != self.owner

    async def claim(self, going: list[tuple[int, int]], now: datetime) -> list[tuple[int, int]]:
        """The (chat, row) pairs of `going` this replica now holds."""
        if not self.shared:
            return going
        got = set(await self.db.write(self._claim, [row for _, row in going], now))
        return [(chat, row) for chat, row in going if row in got]

    def _claim(self, session: Session, ids: list[int], now: datetime) -> list[int]:
        free = session.scalars(select(Outbox.id).where(
            Outbox.id.in_(ids), Outbox.status == "pending",
            or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= now, Outbox.claimed_by == self.owner))
            .with_for_update(skip_locked=True)).all()
        if free:
            session.execute(update(Outbox).where(Outbox.id.in_(free)).values(
                claimed_until=now + self.lease, claimed_by=self.owner))
        return list(free)

    async def release_all(self) -> None:
        """On a clean stop: rows this replica claimed but did not finish go back at once."""
        await self.db.write(lambda s: s.execute(update(Outbox).where(
            Outbox.claimed_by == self.owner, Outbox.status == "pending").values(**self.released())))

    def renewed(self) -> dict:
        return {"claimed_until": datetime.now(UTC) + self.lease} if self.shared else {}

    @staticmethod
    def released() -> dict:
        return {"claimed_until": None, "claimed_by": None}

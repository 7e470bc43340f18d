"""Personal data kept no longer than needed: photo originals (with EXIF GPS) are deleted when no
case uses them any more.

* at once: a draft's photos when the draft is cancelled, expires or its photos are replaced, and a
  photo refused after it was stored (over the limit, outside the district);
* `media.keep_days` after a case is closed or withdrawn (the daily purge): the originals and staff
  copies go, the case is marked `media_purged_at`, and the trace keeps their SHA-256 hashes;
* files nothing refers to (a crash between download and draft) by the daily sweep, after a grace.

Originals are named by hash and shared by every photo with the same bytes, so a file is deleted
only when no draft and no unpurged case still refers to it.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from storage.models import Case, Draft, Event, Photo

log = logging.getLogger(__name__)
DONE_STATES = ("closed", "withdrawn")


class Retention:
    def __init__(self, db, clock, media_dir: Path, keep_days: int):
        self.db, self.clock, self.media_dir, self.keep = db, clock, media_dir, timedelta(days=keep_days)

    async def in_use(self, shas: set[str] | None = None) -> set[str]:
        """Hashes still needed: by a draft, or a case whose media is not purged (of `shas`, if given)."""
        async with self.db.sessions() as session:
            query = select(Photo.sha256).join(Case, Case.id == Photo.case_id).where(Case.media_purged_at.is_(None))
            if shas is not None:
                query = query.where(Photo.sha256.in_(shas))
            used = set(await session.scalars(query))
            for data in await session.scalars(select(Draft.data)):
                used.update(p["sha256"] for p in (data or {}).get("photos", []))
        return used

    async def forget(self, shas) -> int:
        """Delete the originals (and staff copies) of `shas` that nothing uses any more."""
        shas = {s for s in shas if s}
        if not shas:
            return 0
        gone = shas - await self.in_use(shas)
        return sum(self._delete(sha) for sha in gone)

    async def purge_closed(self) -> int:
        """Cases closed or withdrawn more than keep_days ago lose their photo files; returns how many."""
        now = self.clock.now()

        def tx(session) -> set[str]:
            cases = session.scalars(select(Case).where(Case.state.in_(DONE_STATES), Case.media_purged_at.is_(None),
                                                       Case.closed_at < now - self.keep)).all()
            shas: set[str] = set()
            for case in cases:
                mine = sorted({p.sha256 for p in case.photos})
                shas.update(mine)
                session.execute(update(Case).where(Case.id == case.id).values(media_purged_at=now))
                session.add(Event(case_id=case.id, at=now, kind="purged", actor_role="system",
                                  data={"sha256": mine, "keep_days": self.keep.days}))
            return shas
        shas = await self.db.write(tx)
        return await self.forget(shas) if shas else 0

    async def sweep_orphans(self, grace: timedelta = timedelta(hours=1)) -> int:
        """Files no draft or case refers to, older than `grace` (younger ones may be arriving now)."""
        if not self.media_dir.exists():
            return 0
        cutoff = time.time() - grace.total_seconds()
        used = await self.in_use()
        deleted = 0
        for path in [*self.media_dir.iterdir(), *(self.media_dir / ".incoming").glob("*.part")]:
            if not path.is_file() or path.name.startswith(".") or path.stat().st_mtime > cutoff:
                continue
            if path.suffix == ".part" or path.name.split(".")[0] not in used:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    def _delete(self, sha: str) -> int:
        files = list(self.media_dir.glob(f"{sha}.*"))
        for path in files:
            path.unlink(missing_ok=True)
        return 1 if files else 0

"""The hourly upload quota: bytes each user made the bot download (intake.max_upload_mb_per_hour).

Checked before a download, with the size Telegram announces, and recorded after it with the size
received (also for files then refused: the bytes crossed the wire and hit the disk all the same).
"""

from __future__ import annotations

from datetime import timedelta

from storage import prepared

WINDOW = timedelta(hours=1)


class UploadQuota:
    def __init__(self, db, clock, limit_bytes: int):
        self.db, self.clock, self.limit = db, clock, limit_bytes

    async def used(self, user_id: int) -> int:
        since = self.clock.now() - WINDOW
        async with self.db.sessions() as session:
            return (await session.execute(prepared.UPLOADED, {"user": user_id, "since": since})).scalar() or 0

    async def allows(self, user_id: int, size: int) -> bool:
        """Whether `size` more bytes fit the user's last hour (an unknown size counts as 1 byte)."""
        return await self.used(user_id) + max(size, 1) <= self.limit

    async def record(self, user_id: int, size: int) -> None:
        now = self.clock.now()

        def tx(session) -> None:
            session.execute(prepared.ADD_UPLOAD, {"user_id": user_id, "at": now, "bytes": size})
            session.execute(prepared.DROP_UPLOADS, {"before": now - 2 * WINDOW})  # the table stays small
        await self.db.write(tx)

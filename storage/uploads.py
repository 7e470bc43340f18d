"""The hourly upload quota: bytes each user made the bot download (intake.max_upload_mb_per_hour).

Checked before a download, with the size Telegram announces, and recorded after it with the size
received (also for files then refused: the bytes crossed the wire and hit the disk all the same).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from storage.models import Upload

WINDOW = timedelta(hours=1)


class UploadQuota:
    def __init__(self, db, clock, limit_bytes: int):
        self.db, self.clock, self.limit = db, clock, limit_bytes

    async def used(self, user_id: int) -> int:
        since = self.clock.now() - WINDOW
        async with self.db.sessions() as session:
            return await session.scalar(select(func.coalesce(func.sum(Upload.bytes), 0)).where(
                Upload.user_id == user_id, Upload.at > since)) or 0

    async def allows(self, user_id: int, size: int) -> bool:
        """Whether `size` more bytes fit the user's last hour (an unknown size counts as 1 byte)."""
        return await self.used(user_id) + max(size, 1) <= self.limit

    async def record(self, user_id: int, size: int) -> None:
        now = self.clock.now()

        def tx(session) -> None:
            session.add(Upload(user_id=user_id, at=now, bytes=size))
            session.execute(delete(Upload).where(Upload.at < now - 2 * WINDOW))  # the table stays small
        await self.db.write(tx)

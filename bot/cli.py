"""`python -m bot revoke worker ID` (issue 11): the running bot reads the revocation at the worker's next report."""

from __future__ import annotations

from bot.config import Config
from cases import bindguard
from cases.clock import SystemClock
from storage.db import open_database


async def revoke_worker(cfg: Config, user_id: int) -> str | None:
    """Revoke a grid worker (registered by code or listed in config.yaml); their grid, or None if no worker."""
    configured = {w: g.name for g in cfg.grids for w in g.workers}.get(user_id)
    db = await open_database(cfg.database.url)
    try:
        now = SystemClock().now()
        return await db.write(lambda session: bindguard.revoke(session, user_id, configured, None, now))
    finally:
        await db.dispose()

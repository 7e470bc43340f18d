"""A separate process that fires due deadlines once: `python -m tests.replica_fire URL MEDIA_DIR NOW_ISO`.

Used by tests/test_replicas.py to prove, with real processes on one PostgreSQL database, that each
deadline step fires once. Prints how many steps this process fired.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot.app import settings_from
from bot.config import load_config
from cases import Core
from cases.clock import FakeClock
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent


async def main(url: str, media: str, now: str) -> int:
    cfg = load_config(ROOT / "config.yaml")
    cfg.media.dir = Path(media)
    db = Database(url)
    try:
        core = Core(db, FakeClock(datetime.fromisoformat(now)), settings_from(cfg), None)
        return await core.deadlines.fire_due()
    finally:
        await db.dispose()


if __name__ == "__main__":
    print(asyncio.run(main(*sys.argv[1:4])))

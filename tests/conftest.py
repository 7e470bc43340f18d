from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from cases.clock import FakeClock
from emulator.scenario import District

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cfg():
    return load_config(ROOT / "config.yaml")


@pytest.fixture
def clock():
    # Monday 2026-11-23 09:30 in Fuzhou: a working day.
    from datetime import UTC, datetime
    return FakeClock(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))


@pytest.fixture
async def district(cfg, clock, tmp_path):
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d

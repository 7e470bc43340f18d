"""The channel-free core, driven directly: no PTB, no emulator, a FakeClock and a tmp SQLite file.

The schema is migrated once per run into a template and copied for each test (a copy costs a few
milliseconds, a migration a second). The core is built by `cases.bootstrap.build_core`, as the bot does.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from cases.bootstrap import build_core
from cases.clock import FakeClock
from geo.streets import StreetIndex
from storage.db import Database, migrate
from tests.unit.support import ROOT


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def demo_config():
    return load_config(ROOT / "config.yaml")  # parsed once: PyYAML's pure-Python parser is slow


@pytest.fixture(scope="session")
def indexes(demo_config):
    cfg = demo_config
    streets = StreetIndex.from_geojson(cfg.geo.streets_file, crs=cfg.geo.crs, tolerance_m=cfg.geo.tolerance_m)
    grids = StreetIndex.from_geojson(cfg.geo.grids_file, crs=cfg.geo.crs, tolerance_m=0)
    return streets, grids


@pytest.fixture
def cfg(demo_config):
    """The demo config, a copy per test (a test may change it before `core` is built)."""
    return demo_config.model_copy(deep=True)


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))  # Monday 09:30 in Fuzhou, a working day


@pytest.fixture
async def core(cfg, clock, template_db, indexes, tmp_path):
    path = tmp_path / "core.sqlite3"
    with sqlite3.connect(template_db) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    db = Database(f"sqlite+aiosqlite:///{path}")
    wakes = []
    core = build_core(cfg, db, clock, *indexes, on_outbox=lambda: wakes.append(clock.now()))
    core.wakes = wakes  # how often the delivery worker would have been woken
    yield core
    await db.dispose()



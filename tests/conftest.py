from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from cases.clock import FakeClock
from demo.district import District
from tests import pg

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    config.addinivalue_line("markers", "pg: touches the database; run again on PostgreSQL (`-m pg`)")


def pytest_collection_modifyitems(items):
    for item in items:  # every test that opens the district's database
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)


@pytest.fixture
def database_url(tmp_path):
    """The district's database: a SQLite file in tmp_path, or a fresh PostgreSQL database when
    TEST_DATABASE_URL is set (tests/pg.py)."""
    if not pg.URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'frontline.sqlite3'}"
        return
    url = pg.create_database()
    yield url
    pg.drop_database(url)


@pytest.fixture(scope="session", autouse=True)
def _pg_template():
    yield
    if pg.URL:
        pg.drop_template()


@pytest.fixture
def cfg(database_url):
    cfg = load_config(ROOT / "config.yaml")
    if pg.URL:  # on SQLite the district picks its own file in its work directory
        cfg.database.url = database_url
    return cfg


@pytest.fixture
def clock():
    # Monday 2026-11-23 09:30 in Fuzhou: a working day.
    from datetime import UTC, datetime
    return FakeClock(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))


@pytest.fixture
async def district(cfg, clock, tmp_path):
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d

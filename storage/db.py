"""Engine, sessions and start-up migrations (Alembic, applied at start)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def insert_ignore(session: Session, model):
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect (SQLite and PostgreSQL both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing()


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url))
    return cfg


def migrate(url: str) -> None:
    if url.startswith("sqlite") and ":memory:" not in url:
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


def make_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=20, max_overflow=20)  # reads run concurrently
    _sqlite_pragmas(engine.sync_engine, url)
    return engine


def _sqlite_pragmas(engine, url: str) -> None:
    if not url.startswith("sqlite"):
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # WAL: readers do not block the writer
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


class Database:
    """Reads in `sessions()`; every write transaction on one dedicated thread.

    A write is a plain synchronous function of a Session, run start to finish on the writer
    thread: one hand-off per transaction instead of one per statement, and SQLite's single writer
    is never contended inside the process. Other processes on the file wait on busy_timeout.
    """

    def __init__(self, url: str, inline_reads: bool | None = None):
        self.engine = make_engine(url)
        self.sync_engine = create_engine(sync_url(url))
        _sqlite_pragmas(self.sync_engine, url)
        self._sync_sessions = sessionmaker(self.sync_engine, expire_on_commit=False)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        # Run at the start of every write transaction, in it (the core's Directory reads the bindings
        # again there when its view is stale, so a transaction routes by what other processes bound).
        self.before_write: list[Callable[[Session], None]] = []
        # SQLite reads run on the event loop's thread: in WAL mode a reader never waits for the
        # writer, and an indexed lookup takes less time than handing it to a thread and back (aiosqlite
        # made ~4 such trips per query). A server database is read through the async engine.
        inline = url.startswith("sqlite") if inline_reads is None else inline_reads
        self.sessions = (lambda: ReadSession(self._sync_sessions())) if inline else \
            async_sessionmaker(self.engine, expire_on_commit=False)

    async def write(self, fn, *args):
        """Run fn(session, *args) in one transaction on the writer thread; returns its result."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._transaction, fn, args)

    def _transaction(self, fn, args):
        with self._sync_sessions.begin() as session:
            for first in self.before_write:
                first(session)
            return fn(session, *args)

    async def dispose(self) -> None:
        self._writer.shutdown(wait=True)
        await self.engine.dispose()
        self.sync_engine.dispose()


class ReadSession:
    """The read half of AsyncSession's interface (get, scalar, scalars, execute) on a sync Session.
    Results are buffered, as AsyncSession's are, so they outlive the `async with` block."""

    _BUFFERED = {"prebuffer_rows": True}

    def __init__(self, session: Session):
        self._session = session

    async def __aenter__(self) -> ReadSession:
        return self

    async def __aexit__(self, *exc) -> None:
        self._session.close()

    async def get(self, entity, ident, **kw):
        return self._session.get(entity, ident, **kw)

    async def scalar(self, statement, params=None):
        return self._session.scalar(statement, params)

    async def scalars(self, statement, params=None):
        return self._session.scalars(statement, params, execution_options=self._BUFFERED)

    async def execute(self, statement, params=None):
        return self._session.execute(statement, params, execution_options=self._BUFFERED)


async def open_database(url: str) -> Database:
    await asyncio.to_thread(migrate, url)
    return Database(url)

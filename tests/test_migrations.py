"""Alembic on both backends: an old SQLite file (schema 0008) migrates forward with its data; the
whole chain runs up, down and up again on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from storage.db import Database, alembic_config, migrate, sync_url
from storage.models import Case, Outbox
from tests import pg


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


async def test_an_old_sqlite_file_migrates_forward_with_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0008")  # the file as the last release left it
    con = sqlite3.connect(path)
    con.execute("INSERT INTO cases (number, state, category, description, lat, lon, place_source, routed_by,"
                " reporter_id, reporter_lang, reporter_tag, created_at, updated_at, reopen_count, difficult)"
                " VALUES ('GL-20261123-0001', 'routed', 'road', '', 26.08, 119.29, 'location', 'polygon',"
                " 1001, 'zh', 'R-1', '2026-11-23 01:30:00', '2026-11-23 01:30:00', 0, 0)")
    con.execute("INSERT INTO outbox (created_at, chat_id, kind, case_id, payload, status, attempts, message_ids, log)"
                " VALUES ('2026-11-23 01:30:00', -1001, 'card', 1, '{}', 'pending', 0, '[]', '[]')")
    con.commit()
    con.close()
    assert "handled_updates" not in _tables(url)

    migrate(url)

    assert {"handled_updates", "sent_messages", "service_state"} <= _tables(url)
    engine = create_engine(sync_url(url))
    assert {"ix_outbox_queue", "ix_outbox_retry"} <= {i["name"] for i in inspect(engine).get_indexes("outbox")}
    engine.dispose()
    db = Database(url)
    try:
        async with db.sessions() as s:
            case = await s.scalar(select(Case))
            row = await s.scalar(select(Outbox))
        assert case.number == "GL-20261123-0001" and case.created_at == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
        assert (row.status, row.chat_id, row.claimed_until) == ("pending", -1001, None)
    finally:
        await db.dispose()


@pytest.mark.pg
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_calls_deadlines_move_their_call_id_from_the_kind_to_a_column_and_back(backend, tmp_path):
    if backend == "postgresql" and not pg.URL:
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL")
    url = pg.create_database(migrated=False) if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    try:
        command.upgrade(alembic_config(url), "0016")  # deadlines as the last release wrote them
        engine = create_engine(sync_url(url))
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO cases (id, number, state, category, description, lat, lon, place_source, routed_by, "
                "reporter_id, reporter_lang, reporter_tag, created_at, updated_at, reopen_count, difficult) VALUES "
                "(1, 'GL-20261123-0001', 'accepted', 'road_damage', '', 26.08, 119.29, 'location', 'polygon', 1001, "
                "'zh', 'R-1', '2026-11-23 01:30:00', '2026-11-23 01:30:00', 0, false)"))
            conn.execute(text(
                "INSERT INTO calls (id, case_id, department, status, lat, lon, checkin_due, called_by, "
                "called_by_name, created_at) VALUES (7, 1, 'city_mgmt', 'pending', 26.08, 119.29, "
                "'2026-11-23 02:30:00', 1, 'h', '2026-11-23 01:35:00')"))
            for kind in ("answer:7", "checkin:7", "checkin", "resolve"):
                conn.execute(text("INSERT INTO deadlines (case_id, kind, due_at, status, level, warned) VALUES "
                                  "(1, :kind, '2026-11-23 05:30:00', 'open', 0, false)"), {"kind": kind})

        def stored():
            with engine.connect() as conn:
                columns = {c["name"] for c in inspect(conn).get_columns("deadlines")}
                call = "call_id" if "call_id" in columns else "NULL"
                return [tuple(r) for r in conn.execute(text(f"SELECT kind, {call} FROM deadlines ORDER BY id"))]

        migrate(url)
        assert stored() == [("answer", 7), ("checkin", 7), ("checkin", None), ("resolve", None)]
        command.downgrade(alembic_config(url), "0016")
        assert stored() == [("answer:7", None), ("checkin:7", None), ("checkin", None), ("resolve", None)]
        engine.dispose()
    finally:
        if backend == "postgresql":
            pg.drop_database(url)


@pytest.mark.pg
@pytest.mark.skipif(not pg.URL, reason="PostgreSQL half: set TEST_DATABASE_URL")
def test_the_migrations_run_up_down_and_up_on_postgresql():
    url = pg.create_database(migrated=False)
    try:
        migrate(url)
        assert {"cases", "outbox", "handled_updates", "sent_messages"} <= _tables(url)
        command.downgrade(alembic_config(url), "0008")
        assert "handled_updates" not in _tables(url)
        migrate(url)
        assert "handled_updates" in _tables(url)
    finally:
        pg.drop_database(url)


@pytest.mark.pg
@pytest.mark.skipif(not pg.URL, reason="PostgreSQL half: set TEST_DATABASE_URL")
async def test_replicas_starting_together_migrate_one_after_the_other():
    import asyncio
    import sys

    from tests.conftest import ROOT
    url = pg.create_database(migrated=False)
    try:  # separate processes, as replicas are (Alembic's context is one per process)
        procs = [await asyncio.create_subprocess_exec(
            sys.executable, "-c", f"from storage.db import migrate; migrate({url!r})", cwd=ROOT,
            stderr=asyncio.subprocess.PIPE) for _ in range(3)]
        errors = [(await p.communicate())[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
        assert {"cases", "handled_updates"} <= _tables(url)
    finally:
        pg.drop_database(url)

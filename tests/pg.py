"""PostgreSQL for the tests: a fresh database per test on the server named by TEST_DATABASE_URL.

`make test` runs on SQLite. With TEST_DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DB set (`.ci/run`
starts a throw-away server and sets it), every test that opens the district's database gets a database
of its own, copied from a template migrated once per session (CREATE DATABASE … TEMPLATE is much
faster than running the migrations again), and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy.engine import make_url

from storage.db import migrate

URL = os.environ.get("TEST_DATABASE_URL") or None
_template: str | None = None


def _admin():
    import psycopg
    u = make_url(URL)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                           dbname=u.database or "postgres", autocommit=True)


def url_of(name: str) -> str:
    return make_url(URL).set(database=name).render_as_string(hide_password=False)


def create_database(migrated: bool = True) -> str:
    """A new empty database (migrated to head: from the session's template). Returns its async URL."""
    global _template
    name = f"t_{uuid.uuid4().hex[:16]}"
    with _admin() as con:
        if migrated and _template is None:
            _template = f"tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            con.execute(f'CREATE DATABASE "{_template}"')
            migrate(url_of(_template))
        con.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{_template}"' if migrated else ""))
    return url_of(name)


def drop_database(url: str) -> None:
    with _admin() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def drop_template() -> None:
    global _template
    if _template:
        with _admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{_template}" WITH (FORCE)')
        _template = None

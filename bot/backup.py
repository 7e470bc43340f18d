"""`python -m bot backup PATH`: a consistent copy of the database while the bot runs.

SQLite: the online backup API (pages copied under SQLite's own locking, so a write in progress is
either wholly in the copy or not at all; WAL included). Restore: stop the bot and put the copy in
place of the file. PostgreSQL: `pg_dump --format=custom` (needs the PostgreSQL client); restore
with `pg_restore --clean --if-exists -d URL PATH`.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import ConfigError


def backup(url: str, dest: Path) -> str:
    dest.parent.mkdir(parents=True, exist_ok=True)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        src = sqlite3.connect(u.database)
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return f"SQLite database {u.database} copied to {dest}"
    if u.get_backend_name() == "postgresql":
        if not shutil.which("pg_dump"):
            raise ConfigError("backup: pg_dump not found (install the PostgreSQL client)")
        subprocess.run(["pg_dump", "--format=custom", "--file", str(dest), libpq_url(url)], check=True)
        return f"PostgreSQL database {u.database} dumped to {dest} (pg_restore to restore)"
    raise ConfigError(f"backup: no backup for {u.get_backend_name()}")


def libpq_url(url: str) -> str:
    """postgresql+asyncpg://… as libpq (pg_dump, psql) spells it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

"""What one statement costs through each layer of SQLAlchemy, against plain sqlite3 (issue 9).

    python -m bench.statements [--n 3000]

Part 1, a draft's step (read the draft, write it back, commit), five ways: the ORM (`Session.get`, change,
flush at commit), statements built per call on the Session and on a Connection, statements built once
(storage/prepared.py) on a Connection and on the Session, and plain sqlite3. Then two reads.
Part 2, the case a receipt or a card is rendered from, with its photos and deadlines: selectin loads
(three statements) against joined loads (one). CPU time per operation, one thread, a file in WAL mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, create_engine, select, update
from sqlalchemy.orm import joinedload, selectinload, sessionmaker

from storage import prepared
from storage.db import Database, _sqlite_pragmas, migrate
from storage.models import Case, Draft


def per_op(fn, n: int) -> float:
    t0 = time.process_time()
    for i in range(n):
        fn(i % 1000)
    return (time.process_time() - t0) / n * 1e6


def draft_steps(path: Path, n: int) -> dict[str, float]:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    _sqlite_pragmas(engine, url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    now = datetime(2026, 11, 23, 1, 30)
    with sessions.begin() as s:
        s.add_all(Draft(user_id=u, chat_id=u, lang="zh", data={"photos": [{"sha256": "0" * 64}]}, updated_at=now)
                  for u in range(1000))
    d = Draft.__table__
    sel = select(d.c.data).where(d.c.user_id == bindparam("u"))
    upd = update(d).where(d.c.user_id == bindparam("u")).values(data=bindparam("v_data", type_=d.c.data.type),
                                                                 updated_at=bindparam("at", type_=d.c.updated_at.type))

    def orm(u):
        with sessions.begin() as s:
            draft = s.get(Draft, u)
            draft.data, draft.updated_at = {**draft.data, "x": u}, now

    def built_each_time(on_session):
        def step(u):
            with (sessions.begin() if on_session else engine.begin()) as c:
                data = c.execute(select(Draft.data).where(Draft.user_id == u)).scalar_one()
                c.execute(update(d).where(d.c.user_id == u).values(data={**data, "x": u}, updated_at=now))
        return step

    def built_once(on_session):
        def step(u):
            with (sessions.begin() if on_session else engine.begin()) as c:
                data = c.execute(sel, {"u": u}).scalar_one()
                c.execute(upd, {"u": u, "v_data": {**data, "x": u}, "at": now})
        return step

    raw = sqlite3.connect(path, isolation_level=None)

    def plain(u):
        raw.execute("BEGIN")
        data = json.loads(raw.execute("SELECT data FROM drafts WHERE user_id = ?", (u,)).fetchone()[0])
        raw.execute("UPDATE drafts SET data = ?, updated_at = ? WHERE user_id = ?",
                    (json.dumps({**data, "x": u}), str(now), u))
        raw.execute("COMMIT")

    def read_get(u):
        with sessions() as s:
            s.get(Draft, u)

    def read_once(u):
        with sessions() as s:
            s.execute(prepared.DRAFT, {"user": u}).first()

    ways = {"step: ORM get, change, commit": orm,
            "step: statements built per call, Session": built_each_time(True),
            "step: statements built per call, Connection": built_each_time(False),
            "step: statements built once, Session": built_once(True),
            "step: statements built once, Connection": built_once(False),
            "step: plain sqlite3": plain,
            "read: Session.get": read_get,
            "read: a statement built once": read_once}
    result = {name: round(per_op(fn, n)) for name, fn in ways.items()}
    raw.close()
    engine.dispose()
    return result


async def case_loads(path: Path, n: int) -> dict[str, float]:
    """Cases made by the core itself (bench.rows), loaded as the renderer loads them."""
    from bench.reports import ROOT
    from bench.rows import report_core
    from bot.config import load_config
    from cases.bootstrap import build_core
    from cases.clock import FakeClock
    from geo.streets import StreetIndex
    from storage.uploads import UploadQuota

    cfg = load_config(ROOT / "config.yaml")
    streets = StreetIndex.from_geojson(cfg.geo.streets_file, crs=cfg.geo.crs, tolerance_m=cfg.geo.tolerance_m)
    db = Database(f"sqlite+aiosqlite:///{path}")
    core = build_core(cfg, db, FakeClock(datetime(2026, 11, 23, 1, 30, tzinfo=UTC)), streets, None,
                      on_outbox=lambda: None)
    quota = UploadQuota(db, core.clock, 10**12)
    lat, lon = streets.representative_point(cfg.streets[0].name)
    for k in range(200):
        await report_core(core, quota, 700_000 + k, k, lat, lon)
    selectin = select(Case).where(Case.id == bindparam("case")).options(selectinload(Case.photos),
                                                                       selectinload(Case.deadlines))
    joined = select(Case).where(Case.id == bindparam("case")).options(joinedload(Case.photos),
                                                                     joinedload(Case.deadlines))
    result = {}
    for name, statement in (("case load: selectin (3 statements)", selectin), ("case load: joined (1)", joined)):
        t0 = time.process_time()
        for i in range(n):
            async with db.sessions() as s:
                case = (await s.execute(statement, {"case": 1 + i % 200})).unique().scalar_one()
                assert case.photos and case.deadlines
        result[name] = round((time.process_time() - t0) / n * 1e6)
    await db.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000, help="operations per way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontline-statements-") as tmp:
        drafts, cases = Path(tmp) / "drafts.sqlite3", Path(tmp) / "cases.sqlite3"
        for path in (drafts, cases):
            migrate(f"sqlite+aiosqlite:///{path}")
        result = {**draft_steps(drafts, args.n), **asyncio.run(case_loads(cases, args.n))}
    for name, us in result.items():
        print(f"{name:>46}: {us} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

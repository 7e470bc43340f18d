"""`python -m bot simulate …` and `python -m bot report …`: the assessment's command-line side."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from assessment.period import parse_period
from cases.bootstrap import settings_from


def _sqlite(path: str) -> str:
    return path if "://" in path else f"sqlite+aiosqlite:///{Path(path).resolve()}"


async def simulate(cfg, db_path: str, days: int, cases: int, seed: int, start: date, mix: dict | None,
                   settle: timedelta = timedelta(days=4), tick: timedelta = timedelta(minutes=10)) -> dict:
    from assessment.simulate import Mix, Simulator
    from cases.bootstrap import core_from_config
    from cases.clock import FakeClock
    from storage.db import open_database

    cfg = cfg.model_copy(deep=True)
    cfg.database.url = _sqlite(db_path)
    cfg.media.dir = Path(db_path).resolve().parent / "media"
    first = datetime.combine(start, dtime(0), tzinfo=cfg.tz).astimezone(UTC)
    clock = FakeClock(first)
    db = await open_database(cfg.database.url)
    try:
        core = core_from_config(cfg, db, clock)
        return await Simulator(core, clock, Mix(**(mix or {})), seed).run(first, days, cases, tick, settle)
    finally:
        await db.dispose()


def main(cfg, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot simulate|report")
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("simulate", help="drive the core through a simulated period into a database")
    s.add_argument("--days", type=int, default=30)
    s.add_argument("--cases", type=int, default=9700)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1), help="first day (local)")
    s.add_argument("--db", default="var/simulated.sqlite3", help="SQLite file to write (must not exist)")
    s.add_argument("--mix", type=json.loads, default=None, help='JSON overrides of the behaviour mix, e.g. '
                   '\'{"respond_late": 0.2, "answer_late": {"market": 0.6}}\'')
    r = sub.add_parser("report", help="write a period's report (text, charts, workbook) to a folder")
    r.add_argument("--period", default="month", help="week | month | half | 2026-11 | 2026-W47 | 2026-H2")
    r.add_argument("--out", default="var/reports")
    r.add_argument("--db", default=None, help="database URL or SQLite file (default: the config's)")
    args = parser.parse_args(argv)
    if args.what == "simulate":
        if Path(args.db).exists():
            print(f"{args.db} exists: simulate writes a fresh database", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        stats = asyncio.run(simulate(cfg, args.db, args.days, args.cases, args.seed, args.start, args.mix))
        print(f"simulated {args.days} days from {args.start}: {stats} in {time.perf_counter() - t0:.0f}s → {args.db}")
        return 0
    from bot.reports.files import write_report
    url = _sqlite(args.db) if args.db else cfg.database.url
    now = datetime.now(UTC)
    try:
        period = parse_period(args.period, now.astimezone(cfg.tz).date())
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    # A period still running is reported as of now; a past one as of its end plus the rating window.
    as_of = min(now, datetime.combine(period.end, dtime(0), tzinfo=cfg.tz) + timedelta(days=7))
    files = write_report(url, settings_from(cfg), period, as_of, Path(args.out))
    print(files.text)
    print(f"\ncharts: {', '.join(str(p) for p in files.charts)}\nworkbook: {files.workbook}")
    return 0


async def demo_week(cfg, workdir: Path) -> None:
    """The demo's last part: a simulated week (through the core), its league table, and the files."""
    from bot.reports.files import write_report
    from bot.reports.text import league_table
    start = date(2026, 11, 16)  # a Monday: the week 2026-W47
    print("\n📊 监督考核: simulating a week of cases through the core (fake clock) …")
    t0 = time.perf_counter()
    stats = await simulate(cfg, str(workdir / "week.sqlite3"), 7, 70, 1, start, None, settle=timedelta(days=1),
                           tick=timedelta(minutes=30))
    print(f"   {stats['reported']} cases in {time.perf_counter() - t0:.0f}s")
    out = (Path(cfg.media.dir).parent / "reports" / "demo").resolve()
    period = parse_period("2026-W47", start)
    files = await asyncio.to_thread(write_report, _sqlite(str(workdir / "week.sqlite3")), settings_from(cfg), period,
                                    datetime.combine(period.end, dtime(12), tzinfo=cfg.tz), out)
    print("\n" + league_table(files.report, "street"))
    print("\n" + league_table(files.report, "department"))
    print(f"\ncharts: {out}/ ({', '.join(p.name for p in files.charts)})\nworkbook: {files.workbook}")

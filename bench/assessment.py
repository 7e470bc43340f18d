"""The monthly 监督考核 report over a large database: its time and memory, and whether the bot keeps
answering while it runs.

    python -m bench.assessment generate --db var/bench/assess.sqlite3 [--cases 1000000] [--months 12]
    python -m bench.assessment report   --db var/bench/assess.sqlite3 [--period 2026-10]
    python -m bench.assessment latency  --db var/bench/assess.sqlite3 [--period 2026-10]

generate: a fast bulk generator (sqlite3 executemany on the migrated schema, not the core's slow path):
`--cases` cases spread evenly over `--months` months ending with November 2026, ~35 % with a call, and
their deadlines (respond, resolve, check-in for some categories; answer and check-in per call), mostly
met, some late, a few still open; ratings, reopenings, mutual ratings. No events: reports do not read them.

report: writes the monthly report (reading, tallies, five charts, the workbook) once, as the bot does
(bot/reports/files.write_report: a helper process takes the month before, then the charts), and prints the
wall time of each part, the CPU time and the peak RSS of both processes.

latency: starts the real bot (PTB Application, in this process) against the emulator on that database,
asks `/stats PERIOD` in the command centre group, and while the report is made, has a citizen send
/mycases every 50 ms and times each answer (send → the bot's reply seen by the emulator).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from assessment.period import parse_period
from bot.config import load_config

ROOT = Path(__file__).resolve().parent.parent
CATS = ("garbage", "standing_water", "road_damage", "burst_pipe", "street_vending", "other")
LIMIT_MIN = {"garbage": 240, "standing_water": 240, "road_damage": 1440, "burst_pipe": 1440,
             "street_vending": 240, "other": 1440}
DEPTS = ("city_mgmt", "construction", "water", "market", "water_co")


def _ts(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="microseconds")


def generate(path: Path, n: int, months: int, seed: int = 7) -> None:
    from storage.db import migrate
    cfg = load_config(ROOT / "config.yaml")
    streets = [s.name for s in cfg.streets]
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate(f"sqlite+aiosqlite:///{path.resolve()}")
    rng = random.Random(seed)
    end = datetime(2026, 12, 1) - timedelta(hours=8)  # naive UTC, local midnight 1 December
    start = end - timedelta(days=30.4 * months)
    span = (end - start).total_seconds()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    cases, calls, deadlines = [], [], []
    call_id = 0
    daily: dict[str, int] = {}

    def flush() -> None:
        db.executemany("INSERT INTO cases (id, number, state, category, description, lat, lon, place_title, "
                       "place_source, street, routed_by, reporter_id, reporter_lang, reporter_tag, handler_id, "
                       "handler_name, created_at, accepted_at, updated_at, resolved_at, rating, closed_at, "
                       "reopen_count, difficult) VALUES (?,?,?,?,'',?,?,NULL,'location',?,'polygon',?,'zh','R-X',"
                       "?,?,?,?,?,?,?,?,?,?)", cases)
        db.executemany("INSERT INTO calls (id, case_id, department, status, lat, lon, checkin_due, called_by, "
                       "called_by_name, created_at, answered_by_name, answered_at, checked_in_by_name, checked_in_at, "
                       "street_rating, department_rating) VALUES (?,?,?,?,?,?,?,1,'h',?,?,?,?,?,?,?)", calls)
        db.executemany("INSERT INTO deadlines (case_id, kind, call_id, opened_at, due_at, status, closed_at, level, "
                       "warned) VALUES (?,?,?,?,?,?,?,?,1)", deadlines)
        cases.clear(), calls.clear(), deadlines.clear()

    for i in range(1, n + 1):
        created = start + timedelta(seconds=span * (i - 1) / n)
        day = (created + timedelta(hours=8)).strftime("%Y%m%d")
        daily[day] = daily.get(day, 0) + 1
        street, cat = rng.choice(streets), rng.choice(CATS)
        lat, lon = 26.07 + rng.random() * 0.04, 119.27 + rng.random() * 0.04
        if rng.random() < 0.1:  # a few hotspots make repeated places
            lat, lon = 26.08 + rng.randrange(5) * 0.005 + rng.random() * 3e-4, 119.29 + rng.random() * 3e-4
        age = (end - created).total_seconds() / 60
        respond = rng.uniform(1, 9) if rng.random() > 0.04 else rng.uniform(11, 40)
        accepted = created + timedelta(minutes=respond)
        resolve = rng.uniform(20, LIMIT_MIN[cat] * 0.8) if rng.random() > 0.05 else LIMIT_MIN[cat] * 1.3
        done = resolve < age
        resolved = created + timedelta(minutes=resolve) if done else None
        r = rng.random()
        reopens = 1 if r < 0.03 else 0
        rating = ("satisfied" if r < 0.85 else "mostly" if r < 0.95 else "none") if done else None
        state = "closed" if done else "accepted"
        handler = f"{street}经办{rng.randrange(3) + 1}"
        cases.append((i, f"GL-{day}-{daily[day]:05d}", state, cat, lat, lon, street, 10_000_000 + i, 1, handler,
                      _ts(created), _ts(accepted), _ts(resolved or accepted), _ts(resolved) if resolved else None,
                      rating, _ts(resolved) if resolved else None, reopens, 0))
        deadlines.append((i, "respond", None, _ts(created), _ts(created + timedelta(minutes=10)), "met", _ts(accepted),
                          1 if respond > 10 else 0))
        due = created + timedelta(minutes=LIMIT_MIN[cat])
        deadlines.append((i, "resolve", None, _ts(created), _ts(due), "met" if done else "open",
                          _ts(resolved) if resolved else None, 2 if resolve > LIMIT_MIN[cat] else 0))
        if cat in ("road_damage", "burst_pipe") or rng.random() < 0.25:
            call_id += 1
            dept = rng.choice(DEPTS)
            answer = rng.uniform(1, 9) if rng.random() > (0.4 if dept == "market" else 0.05) else rng.uniform(11, 45)
            arrive = rng.uniform(15, 55) if rng.random() > 0.08 else rng.uniform(61, 120)
            answered, arrived = accepted + timedelta(minutes=answer), accepted + timedelta(minutes=arrive)
            checkin_due = accepted + timedelta(hours=1)
            staff = f"{dept}队员{rng.randrange(2) + 1}"
            calls.append((call_id, i, dept, "checked_in", lat, lon, _ts(checkin_due), _ts(accepted), staff,
                          _ts(answered), staff, _ts(arrived), rng.choice(("good",) * 8 + ("fair", "poor")),
                          "accurate" if rng.random() < 0.95 else "inaccurate"))
            deadlines.append((i, "answer", call_id, _ts(accepted), _ts(accepted + timedelta(minutes=10)), "met",
                              _ts(answered), 0 if answer <= 10 else 1 if answer < 20 else 2 if answer < 30 else 3))
            deadlines.append((i, "checkin", call_id, _ts(accepted), _ts(checkin_due), "met", _ts(arrived),
                              0 if arrive <= 60 else 1))
            if cat in ("road_damage", "burst_pipe"):
                deadlines.append((i, "checkin", None, _ts(created), _ts(created + timedelta(hours=1)), "met",
                                  _ts(arrived), 0))
        if len(cases) >= 50_000:
            flush()
    flush()
    db.executemany("INSERT INTO day_counters (day, last) VALUES (?, ?)", daily.items())
    db.commit()
    rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("cases", "calls", "deadlines")}
    db.close()
    print(f"generated {rows} in {time.perf_counter() - t0:.1f}s → {path} ({path.stat().st_size / 1e6:.0f} MB)")


def report(path: Path, period_text: str) -> None:
    from bot.reports.files import write_report
    from cases.bootstrap import settings_from
    cfg = load_config(ROOT / "config.yaml")
    period = parse_period(period_text, date(2026, 12, 3))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    out = Path(tempfile.mkdtemp(prefix="assess-bench-"))
    times: dict[str, float] = {}
    cpu, t0 = time.process_time(), time.perf_counter()
    files = write_report(f"sqlite:///{path.resolve()}", settings_from(cfg), period, now, out, times)
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = files.report
    from sqlalchemy import create_engine
    floor = reading_alone(create_engine(f"sqlite:///{path.resolve()}"), period, now, r.ctx.tz)
    print(f"monthly report {period.label}: {r.current.district.received} cases in the month "
          f"({r.previous.district.received} in the month before), {len(r.current.calls)} calls")
    print(f"  read + tally {times['read + tally']:.2f}s (the month before in the helper), workbook "
          f"{times['workbook']:.2f}s (charts in the helper meanwhile), files {times['files']:.2f}s; "
          f"total {took:.2f}s")
    print(f"  CPU: this process {cpu:.2f}s, helper {helper.ru_utime + helper.ru_stime:.2f}s; peak RSS: this "
          f"process {rss:.0f} MB, helper {helper.ru_maxrss / 1024:.0f} MB")
    print(f"  floor: the rows of both months read alone, one after the other, {floor:.2f}s")


def reading_alone(engine, period, now, tz) -> float:
    """The report's own queries for both months, rows fetched and dropped: what any tally of these rows costs
    at least on this storage."""
    from assessment import trace
    t = time.perf_counter()
    with engine.connect() as conn:
        for p in (period.previous(), period):
            a, b = p.bounds(tz)
            params = {"a": trace._db(a), "b": trace._db(b), "now": trace._db(now)}
            for sql in (trace._CASES, trace._CALLS, trace._DEADLINES, trace._EXTENDED):
                trace._rows(conn, sql, params)
    return time.perf_counter() - t


async def latency(path: Path, period_text: str) -> None:
    from cases.clock import FakeClock
    from demo.district import District
    cfg = load_config(ROOT / "config.yaml")
    work = path.resolve().parent
    cfg.database.url = f"sqlite+aiosqlite:///{path.resolve()}"
    clock = FakeClock(datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
    async with District(cfg, work, clock=clock) as d:
        citizen, emu = d.citizen(8001), d.emu
        command = cfg.command_center.chat_id
        officer = d.staff[command][0]

        async def ask() -> float:
            n = len(emu.messages(citizen.id))
            t = time.perf_counter()
            await d.text(citizen, "/mycases")
            await emu.wait_for(lambda: len(emu.messages(citizen.id)) > n, 30)
            return (time.perf_counter() - t) * 1000

        idle = [await ask() for _ in range(20)]
        t0 = time.perf_counter()
        await emu.send_text(officer, command, f"/stats {period_text}")
        busy, at = [], []  # each answer's time, and when it was asked (s after /stats)
        while not any(m.get("document") for m in emu.messages(command)):
            at.append(time.perf_counter() - t0)
            busy.append(await ask())
            await asyncio.sleep(0.05)
        took = time.perf_counter() - t0
        q = statistics.quantiles(busy, n=100) if len(busy) > 2 else busy
        print(f"/stats {period_text}: report posted after {took:.2f}s")
        print(f"  citizen /mycases idle: median {statistics.median(idle):.0f} ms, max {max(idle):.0f} ms")
        print(f"  while the report ran: {len(busy)} answers, median {statistics.median(busy):.0f} ms, "
              f"p99 {q[-1]:.0f} ms, max {max(busy):.0f} ms")
        slow = sorted(zip(busy, at, strict=True), reverse=True)[:3]
        print("  slowest: " + ", ".join(f"{ms:.0f} ms asked at {s:.2f}s" for ms, s in slow))


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.assessment")
    p.add_argument("what", choices=("generate", "report", "latency"))
    p.add_argument("--db", default="var/bench/assess.sqlite3")
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--period", default="2026-10")
    a = p.parse_args()
    path = Path(a.db)
    if a.what == "generate":
        if path.exists():
            print(f"{path} exists", file=sys.stderr)
            return 2
        generate(path, a.cases, a.months)
    elif a.what == "report":
        report(path, a.period)
    else:
        asyncio.run(latency(path, a.period))
    return 0


if __name__ == "__main__":
    sys.exit(main())

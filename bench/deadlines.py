"""Deadlines at scale: 100,000 open cases, start-up, memory and how late a due deadline fires.

    python -m bench.deadlines [--cases 100000] [--due 600] [--window 60]

Fills a fresh database with `--cases` open cases (each with its respond/resolve deadlines, far in
the future), plus `--due` cases whose respond deadline falls due at spread-out moments during the
next `--window` seconds. Then starts the real bot as its own process against the emulator and
measures: start-up (process start until the bot starts polling, its deadlines armed),
resident memory, and for every deadline that fell due, how long after its due time the lapse was
written (the nag's outbox row), while citizens keep reporting meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bench.reports import ROOT, one_report, rss_mb
from bot.config import load_config
from demo.district import District
from emulator.images import jpeg
from geo.streets import StreetIndex
from storage.db import migrate


def fill(db: Path, cases: int, due: int, window: float, start: datetime) -> None:
    migrate(f"sqlite+aiosqlite:///{db}")
    con = sqlite3.connect(db)
    naive = start.replace(tzinfo=None)
    far = naive + timedelta(days=30)
    con.execute("PRAGMA journal_mode=WAL")
    rows, deadlines = [], []
    for i in range(cases + due):
        rows.append((i + 1, f"BN-{i:07d}", "routed", "garbage", "", 26.09, 119.30, "location", "鼓东街道",
                     "polygon", 10_000_000 + i, "zh", "R-BENCH", naive, naive, 0))
        soon = i >= cases
        respond = naive + timedelta(seconds=5 + (i - cases) * window / max(due, 1)) if soon else far
        # warned=1: the benchmark times the lapse itself, not the early warning
        deadlines.append((i + 1, "respond", naive, respond, "open", 0, 1, respond))
        deadlines.append((i + 1, "resolve", naive, far, "open", 0, 1, far))
    con.executemany("insert into cases (id, number, state, category, description, lat, lon, place_source, street,"
                    " routed_by, reporter_id, reporter_lang, reporter_tag, created_at, updated_at, reopen_count)"
                    " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.executemany("insert into deadlines (case_id, kind, opened_at, due_at, status, level, warned, next_at)"
                    " values (?,?,?,?,?,?,?,?)", deadlines)
    con.commit()
    con.close()


def query(db: Path, sql: str, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


async def run(cases: int, due: int, window: float) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="frontline-bench-dl-") as tmp:
        tmp = Path(tmp)
        db = tmp / "dl.sqlite3"
        t = time.perf_counter()
        start = datetime.now(UTC) + timedelta(seconds=20)  # leaves time for the bot to start
        fill(db, cases, due, window, start)
        fill_s = time.perf_counter() - t
        d = District(cfg, tmp)
        await d.emu.start()
        d._make_groups()
        raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        raw["telegram"].update(base_url=d.emu.base_url, base_file_url=d.emu.base_file_url)
        raw["database"]["url"] = f"sqlite+aiosqlite:///{db}"
        raw["media"]["dir"] = str(tmp / "media")
        for key in ("streets_file", "grids_file"):
            if raw["geo"].get(key):
                raw["geo"][key] = str(ROOT / raw["geo"][key])
        raw["intake"]["max_cases_per_hour"] = 10**6
        (tmp / "b.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": d.emu.token}
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(tmp / "b.yaml"),
                                                    cwd=ROOT, env=env, stderr=asyncio.subprocess.DEVNULL)
        try:
            # deleteWebhook is the first call of start_polling, made after the database is open, the
            # deadlines armed and the catch-up pass scheduled (a long poll is only logged when it ends)
            await d.emu.wait_for(lambda: any(c.method == "deleteWebhook" for c in d.emu.calls), 120)
            startup_s = time.perf_counter() - t0
            rss_start = rss_mb(proc.pid)
            index = StreetIndex.from_geojson(cfg.geo.streets_file)
            point = index.representative_point("鼓东街道")
            stop = asyncio.Event()

            async def citizen(k: int) -> int:  # the bot keeps taking reports meanwhile
                user, n = d.citizen(200_000 + k), 0
                while not stop.is_set():
                    await one_report(d, user, jpeg(320, 240, label=str(k)), *point)
                    n += 1
                return n
            reporters = [asyncio.create_task(citizen(k)) for k in range(5)]
            wait = (start + timedelta(seconds=5 + window) - datetime.now(UTC)).total_seconds() + 3
            await asyncio.sleep(max(wait, 0))
            stop.set()
            reports = sum(await asyncio.gather(*reporters))
            lags = sorted(r[0] for r in query(db, """
                select (julianday(o.created_at) - julianday(d.due_at)) * 86400.0 from outbox o
                join deadlines d on d.case_id = o.case_id and d.kind = 'respond'
                where o.kind = 'notice' and json_extract(o.payload, '$.key') = 'dl_level1'"""))
            fired = len(lags)
            return {"open_cases": cases + due, "open_deadlines": 2 * (cases + due), "fill_s": round(fill_s, 1),
                    "startup_s": round(startup_s, 2), "bot_rss_mb_after_start": round(rss_start, 1),
                    "bot_rss_mb_end": round(rss_mb(proc.pid), 1), "deadlines_due": due, "lapses_fired": fired,
                    "lag_p50_s": round(lags[fired // 2], 3) if fired else None,
                    "lag_p99_s": round(lags[min(fired - 1, int(fired * 0.99))], 3) if fired else None,
                    "lag_max_s": round(lags[-1], 3) if fired else None, "reports_meanwhile": reports}
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
            await d.emu.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=600)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    for key, value in asyncio.run(run(args.cases, args.due, args.window)).items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

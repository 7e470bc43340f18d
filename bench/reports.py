"""Reports per second through the real bot on SQLite against the emulator, and its memory.

    python -m bench.reports [--cases 2000] [--concurrency 100]

The bot runs as its own process (`python -m bot --config <generated>`), as in production; this
process runs the Bot API emulator and many citizens who report at once (photo, place, category,
skip, confirm), each waiting for the bot's answer before the next step, as a phone would.
Counted: cases committed to the bot's database per second of wall time. Delivery runs at
Telegram's limits meanwhile; at the end the benchmark reports the outbox by status (nothing may
be 'failed'), the highest send rates the emulator saw, and the bot process's resident memory.
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
from collections import Counter
from pathlib import Path

from bench.setup import emulator_config, write_config
from bot.config import load_config
from demo.district import District
from emulator.images import jpeg
from geo.streets import StreetIndex

ROOT = Path(__file__).resolve().parent.parent


async def one_report(d: District, user, photo: bytes, lat: float, lon: float, timeout: float = 120) -> None:
    emu, chat = d.emu, user.id
    n = len(emu.messages(chat))
    await emu.send_photo(user, chat, photo)
    await emu.wait_for(lambda: len(emu.messages(chat)) > n, timeout, chat)
    await emu.send_location(user, chat, lat, lon)
    for label in ("垃圾堆放", "跳过", "确认"):
        await d.wait_button(chat, label, timeout)
        await d.tap_last(user, chat, label)


def count(db: Path, sql: str):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(cases: int, concurrency: int, drain: float, profile: str | None = None) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as tmp:
        tmp = Path(tmp)
        d = District(cfg, tmp)
        await d.emu.start()
        d._make_groups()
        raw = emulator_config(d.emu, tmp)
        write_config(raw, tmp / "bench.yaml")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": d.emu.token}
        prof = ["-m", "cProfile", "-o", profile] if profile else []  # where the bot's CPU goes (slower)
        proc = await asyncio.create_subprocess_exec(sys.executable, *prof, "-m", "bot", "--config",
                                                    str(tmp / "bench.yaml"), cwd=ROOT, env=env,
                                                    stderr=asyncio.subprocess.DEVNULL)
        try:
            await d.emu.wait_for(lambda: any(c.method == "setMyCommands" for c in d.emu.calls), 60)
            index = StreetIndex.from_geojson(cfg.geo.streets_file)
            streets = [s.name for s in cfg.streets]
            points = {s: index.representative_point(s) for s in streets}
            photos = [jpeg(320, 240, label=f"bench {i}") for i in range(16)]
            next_case = iter(range(cases))

            async def citizen(k: int) -> None:
                user = d.citizen(100_000 + k)
                for i in next_case:
                    await one_report(d, user, photos[i % len(photos)], *points[streets[i % len(streets)]])

            db = tmp / "bench.sqlite3"
            t0, cpu0, calls0 = time.perf_counter(), cpu_seconds(proc.pid), len(d.emu.calls)
            await asyncio.gather(*(citizen(k) for k in range(concurrency)))
            while count(db, "select count(*) from cases")[0][0] < cases:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            bot_cpu = cpu_seconds(proc.pid) - cpu0
            made = Counter(c.method for c in d.emu.calls[calls0:] if c.method != "getUpdates")
            rss_after = rss_mb(proc.pid)
            cpu1 = cpu_seconds(proc.pid)
            await asyncio.sleep(drain)  # delivery goes on at Telegram's pace
            drain_cpu = (cpu_seconds(proc.pid) - cpu1) / drain if drain else 0.0
            outbox = dict(count(db, "select status, count(*) from outbox group by status"))
            waiting = dict(count(db, "select case when chat_id < 0 then 'groups' else 'private' end, count(*) "
                                     "from outbox where status = 'pending' group by 1"))
            stored = count(db, "select count(*) from cases")[0][0]
            return {"cases": stored, "seconds": round(elapsed, 2), "reports_per_s": round(stored / elapsed, 1),
                    "bot_cpu_share": f"{bot_cpu / elapsed:.0%} of one core",
                    "bot_cpu_ms_per_report": round(bot_cpu / stored * 1000, 1),
                    "bot_rss_mb_after": round(rss_after, 1),
                    "api_calls_per_report": {m: round(n / stored, 2) for m, n in made.most_common()},
                    f"outbox_after_{drain:.0f}s_drain": outbox,
                    "bot_cpu_share_in_drain": f"{drain_cpu:.0%} of one core",
                    "pending_by_chat_kind": waiting,
                    "max_group_msgs_in_60s": max(d.emu.max_rate(s.chat_id, 60.0) for s in cfg.streets),
                    "max_private_msgs_in_1s": max(d.emu.max_rate(100_000 + k, 1.0) for k in range(concurrency)),
                    "max_msgs_in_1s_overall": d.emu.max_rate(None, 1.0)}
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
            await d.emu.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to let delivery go on at the end")
    parser.add_argument("--profile", help="run the bot under cProfile and write its stats to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args.cases, args.concurrency, args.drain, args.profile))
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reports per second through the real bot on SQLite against the emulator, and memory after N cases.

    python -m bench.reports [--cases 2000] [--concurrency 100]

Many citizens report at once (photo, place, category, skip, confirm), each waiting for the bot's
answer before the next step, as a phone would. Counted: cases committed to the database per second
of wall time. Delivery runs at Telegram's limits meanwhile; at the end the benchmark checks that
every outbox row was sent or is still waiting its turn (none failed or lost) and reports the
highest send rates the emulator saw per group and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.config import load_config
from cases.clock import SystemClock
from emulator.images import jpeg
from emulator.scenario import District
from storage.models import Case, Outbox

ROOT = Path(__file__).resolve().parent.parent


async def one_report(d: District, user, photo: bytes, lat: float, lon: float) -> None:
    emu, chat = d.emu, user.id

    async def reply_after(n: int):
        await emu.wait_for(lambda: len(emu.messages(chat)) > n, timeout=120)

    n = len(emu.messages(chat))
    await emu.send_photo(user, chat, photo)
    await reply_after(n)
    await emu.send_location(user, chat, lat, lon)
    await d.wait_button(chat, "垃圾堆放")
    await d.tap_last(user, chat, "垃圾堆放")
    await d.wait_button(chat, "跳过")
    await d.tap_last(user, chat, "跳过")
    await d.wait_button(chat, "确认")
    await d.tap_last(user, chat, "确认")


async def run(cases: int, concurrency: int) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as tmp:
        async with District(cfg, Path(tmp), clock=SystemClock()) as d:
            d.core.settings.max_cases_per_hour = 10**9
            streets = [s.name for s in cfg.streets]
            points = {s: d.core.streets.representative_point(s) for s in streets}
            photos = [jpeg(320, 240, label=f"bench {i}") for i in range(16)]
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(cases):
                queue.put_nowait(i)

            async def citizen_loop(k: int) -> None:
                user = d.citizen(100_000 + k)
                while not queue.empty():
                    i = queue.get_nowait()
                    street = streets[i % len(streets)]
                    await one_report(d, user, photos[i % len(photos)], *points[street])

            t0 = time.perf_counter()
            await asyncio.gather(*(citizen_loop(k) for k in range(concurrency)))
            async with d.core.sessions() as s:
                while await s.scalar(select(func.count(Case.id))) < cases:
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            async with d.core.sessions() as s:
                stored = await s.scalar(select(func.count(Case.id)))
                by_status = dict((await s.execute(
                    select(Outbox.status, func.count(Outbox.id)).group_by(Outbox.status))).all())
            group_rate = max(d.emu.max_rate(s.chat_id, 60.0) for s in cfg.streets)
            overall = d.emu.max_rate(None, 1.0)
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            return {"cases": stored, "seconds": round(elapsed, 2), "reports_per_s": round(stored / elapsed, 1),
                    "outbox": by_status, "max_group_msgs_per_60s": group_rate,
                    "max_msgs_per_1s": overall, "peak_rss_mb": round(rss_mb, 1)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    random.seed(1)
    result = asyncio.run(run(args.cases, args.concurrency))
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    ok = result["outbox"].get("failed", 0) == 0 and result["max_group_msgs_per_60s"] <= 20
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

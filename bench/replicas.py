"""Reports per second with one and with two replicas on PostgreSQL, and a card's latency.

    python -m bench.replicas --database-url postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres \\
        [--reports 400] [--concurrency 50] [--rate 10] [--seconds 10] [--replicas 1,2]

Throughput: `--concurrency` citizens report at once (photo, place, category, skip, confirm, each step
waiting for the bot, as a phone would) until `--reports` cases are in the database; counted: cases per
second of wall time, with 1 replica and with 2 (the emulator balancing the webhook between them), and
the ratio. Latency: with 2 replicas, a new citizen confirms a report every 1/`--rate` s for `--seconds`
s (open loop); measured from the confirm tap to the Bot API call that posts the card to the street's
group, p50/p99. A card is two messages to its group (the photo with the caption, then the venue), and
Telegram takes 20 messages a minute per group: at 10 reports/s for 10 s each of the 10 demo streets
gets 10 cards, 20 messages, exactly the limit. Run longer and the rest of the cards wait for the next
minute by design (20 s gave p99 ≈ 60 s): that measures Telegram's limit, not the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.cluster import Cluster, one_report
from bench.reports import cpu_seconds
from emulator.images import jpeg
from geo.streets import StreetIndex


async def _prepare(c: Cluster):
    d = c.district
    index = StreetIndex.from_geojson(d.cfg.geo.streets_file)
    streets = [s.name for s in d.cfg.streets]
    points = [index.representative_point(s) for s in streets]
    photos = [jpeg(320, 240, label=f"replicas {i}") for i in range(16)]
    return d, points, photos


async def throughput(admin_url: str, replicas: int, reports: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="frontline-replicas-") as tmp:
        async with Cluster(admin_url, Path(tmp), replicas) as c:
            d, points, photos = await _prepare(c)
            todo = iter(range(reports))

            async def citizen(k: int) -> None:
                user = d.citizen(300_000 + k)
                for i in todo:
                    await one_report(d, user, photos[i % len(photos)], *points[i % len(points)], timeout=120)
            pids = [p.pid for p in c.procs]
            cpu0, own0, busy0 = [cpu_seconds(p) for p in pids], time.process_time(), machine_busy()
            t0 = time.perf_counter()
            await asyncio.gather(*(citizen(k) for k in range(concurrency)))
            while c.query("select count(*) from cases")[0][0] < reports:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            cpus = [cpu_seconds(p) - c0 for p, c0 in zip(pids, cpu0, strict=True)]
            busy = [b - b0 for b, b0 in zip(machine_busy(), busy0, strict=True)]
            sends = [c for c in d.emu.calls if c.ok and c.method.startswith("send")]
            return {"replicas": replicas, "cases": reports, "seconds": round(elapsed, 1),
                    "reports_per_s": round(reports / elapsed, 1),
                    "bot_sends_per_report": round(len(sends) / reports, 2),
                    "bot_sends_per_s_max_in_1s": d.emu.max_rate(None, 1.0, edits=False),
                    "replica_cpu_share": [f"{x / elapsed:.0%}" for x in cpus],
                    "replica_cpu_ms_per_report": round(sum(cpus) / reports * 1000, 1),
                    "citizens_and_emulator_cpu_share": f"{(time.process_time() - own0) / elapsed:.0%}",
                    "machine_busy": f"{busy[0] / busy[1]:.0%} of {os.cpu_count()} cores"}


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far, from /proc/stat: PostgreSQL's work is in it too."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def latency(admin_url: str, rate: float, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="frontline-latency-") as tmp:
        async with Cluster(admin_url, Path(tmp), 2) as c:
            d, points, photos = await _prepare(c)
            confirmed: dict[int, float] = {}  # citizen -> when the confirm was tapped
            n = int(rate * seconds)

            async def one(i: int) -> None:
                user = d.citizen(400_000 + i)
                emu, chat = d.emu, user.id
                await emu.send_photo(user, chat, photos[i % len(photos)])
                await emu.wait_for(lambda: emu.messages(chat), 60, chat)
                await emu.send_location(user, chat, *points[i % len(points)])
                for label in ("垃圾堆放", "跳过"):
                    await d.wait_button(chat, label, 60)
                    await d.tap_last(user, chat, label)
                await d.wait_button(chat, "确认", 60)
                confirmed[user.id] = time.monotonic()
                await d.tap_last(user, chat, "确认")
            # Each report takes its citizen a few steps: start them so that the confirms come at `rate`.
            tasks = []
            for i in range(n):
                tasks.append(asyncio.create_task(one(i)))
                await asyncio.sleep(1 / rate)
            await asyncio.gather(*tasks)
            while c.query("select count(*) from cases")[0][0] < n:  # the last confirms are being committed
                await asyncio.sleep(0.05)
            groups = {s.chat_id for s in d.cfg.streets}
            cases = dict(c.query("select number, reporter_id from cases"))

            def cards():
                return {cases[num]: call.ts for call in d.emu.calls_to("sendPhoto") if call.ok
                        and call.params.get("chat_id") in groups
                        for num in [next((x for x in cases if x in str(call.params.get("caption"))), None)] if num}
            await d.emu.wait_for(lambda: len(cards()) >= len(cases), 180)
            posted = cards()
            lat = sorted(posted[u] - confirmed[u] for u in posted if u in confirmed)
            span = max(confirmed.values()) - min(confirmed.values())
            return {"reports": len(lat), "confirm_rate_per_s": round((len(confirmed) - 1) / span, 1),
                    "p50_ms": round(statistics.median(lat) * 1000), "p99_ms": round(lat[int(0.99 * (len(lat) - 1))]
                                                                              * 1000),
                    "max_ms": round(lat[-1] * 1000),
                    "max_group_messages_in_60s": max(d.emu.max_rate(g, 60.0, edits=False) for g in groups)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--latency-only", action="store_true", help="skip the throughput runs")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency run")
    parser.add_argument("--replicas", default="1,2", help="replica counts for the throughput runs")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url or TEST_DATABASE_URL is required")
    if not args.latency_only:
        runs = {}
        for n in (int(x) for x in args.replicas.split(",")):
            runs[n] = asyncio.run(throughput(args.database_url, n, args.reports, args.concurrency))
            print(f"{n} replica{'s' if n > 1 else ' '}:", runs[n], flush=True)
        if 1 in runs and 2 in runs:
            print(f"ratio (2/1): {runs[2]['reports_per_s'] / runs[1]['reports_per_s']:.2f}", flush=True)
    if not args.throughput_only:
        print("latency   :", asyncio.run(latency(args.database_url, args.rate, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

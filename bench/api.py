"""Open311 POST requests per second through the bot process on SQLite, while it keeps answering chats.

    python -m bench.api [--requests 4000] [--clients 50] [--rate 200]

The bot runs as its own process (`python -m bot --config <generated>`, the API served by it on a free
loopback port) against the Bot API emulator run here. `--clients` HTTP clients each POST one request
(form-encoded, a point in one of the streets, no media_url) and the next as soon as it is answered.
With `--rate R` the clients offer R requests a second in all instead (request i is due at i/R s, and
its latency counts from then, however late it is sent: no coordinated omission).
Meanwhile a citizen sends /help every 0.25 s and waits for the bot's answer. Reported: accepted
(201) requests per second of wall time, latency percentiles of the POSTs, the bot's chat answer
latency during the load, and the bot process's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.reports import count, cpu_seconds, rss_mb
from bench.setup import emulator_config, write_config
from bot.config import load_config
from demo.district import District
from geo.streets import StreetIndex

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-hotline-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 1) if values else float("nan")


async def run(total: int, clients: int, warmup: int, profile: str | None = None, rate: float = 0,
              callback: bool = False, alone: bool = False) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    received = [0]
    receiver = None
    if callback:  # the hotline's callback endpoint, here on loopback: every state change is POSTed to it
        from aiohttp import web

        async def take(request: web.Request) -> web.Response:
            await request.read()
            received[0] += 1
            return web.Response(status=204)
        app = web.Application()
        app.router.add_post("/callback", take)
        receiver = web.AppRunner(app, access_log=None)
        await receiver.setup()
        await web.TCPSite(receiver, "127.0.0.1", 0).start()
    with tempfile.TemporaryDirectory(prefix="frontline-bench-api-") as tmp:
        tmp = Path(tmp)
        d = District(cfg, tmp)
        await d.emu.start()
        d._make_groups()
        raw = emulator_config(d.emu, tmp)
        port = free_port()
        raw["api"].update(listen="127.0.0.1", port=port)
        raw["api"]["channels"][0]["rate_limit"] = 10**6
        if receiver:
            raw["api"]["channels"][0]["callback_url"] = f"http://127.0.0.1:{receiver.addresses[0][1]}/callback"
        write_config(raw, tmp / "bench.yaml")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": d.emu.token, "HOTLINE_12345_API_KEY": KEY}
        prof = ["-m", "cProfile", "-o", profile] if profile else []  # where the bot's CPU goes (slower)
        if alone:  # the API in its own process (`python -m bot api`), the bot beside it sends the cards
            write_config({**raw, "api": {**raw["api"], "listen": None}}, tmp / "bot.yaml")
        proc = await asyncio.create_subprocess_exec(sys.executable, *([] if alone else prof), "-m", "bot",
                                                    "--config", str(tmp / ("bot.yaml" if alone else "bench.yaml")),
                                                    cwd=ROOT, env=env, stderr=asyncio.subprocess.DEVNULL)
        procs = [proc]
        url = f"http://127.0.0.1:{port}/open311/v2/requests.json"
        try:
            await d.emu.wait_for(lambda: any(c.method == "setMyCommands" for c in d.emu.calls), 60)
            if alone:  # started once the bot has migrated the database
                procs.append(await asyncio.create_subprocess_exec(
                    sys.executable, *prof, "-m", "bot", "--config", str(tmp / "bench.yaml"), "api", cwd=ROOT,
                    env=env, stderr=asyncio.subprocess.DEVNULL))
            index = StreetIndex.from_geojson(cfg.geo.streets_file)
            points = [index.representative_point(s.name) for s in cfg.streets]
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            chat_waits: list[float] = []
            connector = aiohttp.TCPConnector(limit=clients)
            async with aiohttp.ClientSession(connector=connector) as http:
                for _ in range(100):  # the API is up once it answers
                    try:
                        async with http.get(url.replace("requests", "services")) as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                numbers = iter(range(warmup))  # warm-up requests first, not counted

                start = [0.0]

                async def client() -> None:
                    for i in numbers:
                        lat, lon = points[i % len(points)]
                        form = {"api_key": KEY, "service_code": "garbage", "lat": str(lat), "long": str(lon),
                                "description": f"bench {i}", "external_id": f"B-{i}"}
                        t = time.perf_counter()
                        if rate and i >= warmup:  # open loop: request i is due at start + i/rate
                            due = start[0] + (i - warmup) / rate
                            if due > t:
                                await asyncio.sleep(due - t)
                            t = due  # latency counted from when it was due, late or not
                        async with http.post(url, data=form) as resp:
                            await resp.read()
                        if i >= warmup:
                            latencies.append(time.perf_counter() - t)
                            statuses[resp.status] = statuses.get(resp.status, 0) + 1

                done = asyncio.Event()

                async def citizen() -> None:  # the bot must keep answering chats meanwhile
                    user = d.citizen(900_001)
                    while not done.is_set():
                        n = len(d.emu.messages(user.id))
                        t = time.perf_counter()
                        await d.emu.send_text(user, user.id, "/help")
                        await d.emu.wait_for(lambda n=n: len(d.emu.messages(user.id)) > n, 30, user.id)
                        chat_waits.append(time.perf_counter() - t)
                        await asyncio.sleep(0.25)

                await asyncio.gather(*(client() for _ in range(min(clients, warmup))))
                numbers = iter(range(warmup, total + warmup))
                chatting = asyncio.create_task(citizen())
                t0, own0 = time.perf_counter(), time.process_time()
                cpu0 = [cpu_seconds(p.pid) for p in procs]
                start[0] = t0
                await asyncio.gather(*(client() for _ in range(clients)))
                elapsed = time.perf_counter() - t0
                cpus = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
                bot_cpu, own_cpu = sum(cpus), time.process_time() - own0
                done.set()
                await chatting
                for _ in range(100):  # the callbacks of the counted requests, if any, a few seconds more
                    if not callback or received[0] >= total + warmup:
                        break
                    await asyncio.sleep(0.1)
            db = tmp / "bench.sqlite3"
            accepted = statuses.get(201, 0)
            return {"requests": total, "clients": clients, "offered_per_s": rate or "as fast as answered",
                    "seconds": round(elapsed, 2), "statuses": statuses,
                    "accepted_per_s": round(accepted / elapsed, 1),
                    "latency_ms_p50_p95_p99_max": (pct(latencies, .5), pct(latencies, .95), pct(latencies, .99),
                                                   round(max(latencies) * 1000, 1)),
                    "bot_cpu_share": f"{bot_cpu / elapsed:.0%} of one core" + (
                        f" (bot {cpus[0] / elapsed:.0%}, API process {cpus[1] / elapsed:.0%})" if alone else ""),
                    "bot_cpu_ms_per_request": round(bot_cpu / max(accepted, 1) * 1000, 2),
                    "clients_and_emulator_cpu_share": f"{own_cpu / elapsed:.0%} of one core",
                    "load_average_1min_after": os.getloadavg()[0],
                    "chat_answers_during_load": len(chat_waits),
                    "chat_answer_ms_median_max": (round(statistics.median(chat_waits) * 1000, 1) if chat_waits
                                                  else None, round(max(chat_waits, default=0) * 1000, 1)),
                    "cases_in_db": count(db, "select count(*) from cases")[0][0],
                    "callbacks_received": received[0] if callback else "no callback_url",
                    "bot_rss_mb": round(sum(rss_mb(p.pid) for p in procs), 1)}
        finally:
            for p in procs:
                if p.returncode is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                await p.wait()
            await d.emu.stop()
            if receiver:
                await receiver.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=200, help="requests sent first and not counted")
    parser.add_argument("--profile", help="run the bot under cProfile and write its stats to this file")
    parser.add_argument("--rate", type=float, default=0,
                        help="open loop: offer this many requests a second in all (0: each client posts its "
                             "next request as soon as the last is answered)")
    parser.add_argument("--callback", action="store_true",
                        help="give the channel a callback_url (a receiver in this process) and count the callbacks")
    parser.add_argument("--alone", action="store_true",
                        help="serve the API from its own process (`python -m bot api`) beside the bot process")
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.clients, args.warmup, args.profile, args.rate, args.callback,
                             args.alone))
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

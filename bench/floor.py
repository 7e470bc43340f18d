"""The floor under bench.reports: a bot that makes a report's Telegram traffic and nothing else.

    python -m bench.floor [--cases 2000] [--concurrency 100] [--transport aiohttp|httpx]

Same citizens, emulator and python-telegram-bot settings as bench.reports (own process,
per-chat update processor, 8 connections), but the bot is a skeleton: no database, no image
check, no core. Each report still costs the calls the real one makes: getFile and the download,
five messages (ask place, categories, ask note, summary, receipt), three callback answers, three
button removals, and the street's card (photo and venue). Whatever this skeleton reaches is an
upper bound for the real bot on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.reports import ROOT, cpu_seconds, one_report
from bot.config import load_config
from demo.district import District
from emulator.images import jpeg
from geo.streets import StreetIndex


def skeleton(base_url: str, base_file_url: str, token: str, group: int, transport: str) -> None:
    """The child process: answers each step as the real flow does, with the same API calls."""
    from telegram import InlineKeyboardButton as B
    from telegram import InlineKeyboardMarkup as K
    from telegram import KeyboardButton, ReplyKeyboardMarkup
    from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

    from bot.flood import FloodRetry
    from bot.transport import AiohttpRequest
    from bot.updates import PerChatUpdateProcessor

    async def photo(update, context):
        file = await context.bot.get_file(update.message.photo[-1].file_id)
        await file.download_as_bytearray()
        await update.message.reply_text("请发送位置", reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📍", request_location=True)]], resize_keyboard=True, one_time_keyboard=True))
        context.user_data["photo"] = update.message.photo[-1].file_id

    async def place(update, context):
        context.user_data["place"] = update.message.location
        await update.message.reply_text("请选择类别", reply_markup=K([[B("垃圾堆放", callback_data="c")]]))

    async def tap(update, context):
        query = update.callback_query
        await query.answer()
        await query.edit_message_reply_markup(None)
        if query.data == "c":
            await query.message.reply_text("补充说明?", reply_markup=K([[B("跳过", callback_data="d")]]))
        elif query.data == "d":
            await query.message.reply_text("摘要", reply_markup=K([[B("确认", callback_data="ok")]]))
        else:
            await query.message.reply_text("已受理 GL-00000000-0000")
            where = context.user_data["place"]
            await context.bot.send_photo(group, context.user_data["photo"], caption="新案件")
            await context.bot.send_venue(group, where.latitude, where.longitude, "位置", "地址")

    builder = (Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
               .concurrent_updates(PerChatUpdateProcessor(64)))
    if transport == "httpx":  # PTB's default client, as the bot had it before bot/transport.py
        builder = builder.connection_pool_size(8)
    else:  # as bot/app.py builds it
        builder = (builder.request(AiohttpRequest(connection_pool_size=16, pool_timeout=30))
                   .get_updates_request(AiohttpRequest(connection_pool_size=1)).rate_limiter(FloodRetry()))
    app = builder.build()
    app.add_handler(MessageHandler(filters.PHOTO, photo))
    app.add_handler(MessageHandler(filters.LOCATION, place))
    app.add_handler(CallbackQueryHandler(tap))
    app.run_polling(allowed_updates=["message", "callback_query"])


async def run(cases: int, concurrency: int, transport: str) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="frontline-floor-") as tmp:
        d = District(cfg, Path(tmp))
        await d.emu.start()
        d._make_groups()
        group = cfg.streets[0].chat_id
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.floor", "--child", d.emu.base_url, d.emu.base_file_url, d.emu.token,
            str(group), transport, cwd=ROOT, env=dict(os.environ), stderr=asyncio.subprocess.DEVNULL)
        try:
            await d.emu.wait_for(lambda: any(c.method == "getUpdates" for c in d.emu.calls), 60)
            lat, lon = StreetIndex.from_geojson(cfg.geo.streets_file).representative_point(cfg.streets[0].name)
            photos = [jpeg(320, 240, label=f"floor {i}") for i in range(16)]
            next_case = iter(range(cases))

            async def citizen(k: int) -> None:
                user = d.citizen(100_000 + k)
                for i in next_case:
                    await one_report(d, user, photos[i % len(photos)], lat, lon)

            t0, cpu0, calls0 = time.perf_counter(), cpu_seconds(proc.pid), len(d.emu.calls)
            own0 = cpu_seconds(os.getpid())
            await asyncio.gather(*(citizen(k) for k in range(concurrency)))
            await d.emu.wait_for(lambda: len(d.emu.messages(group)) >= 2 * cases, 120)
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0
            own = cpu_seconds(os.getpid()) - own0
            calls = sum(1 for c in d.emu.calls[calls0:] if c.method != "getUpdates")
            return {"reports": cases, "seconds": round(elapsed, 2), "reports_per_s": round(cases / elapsed, 1),
                    "bot_cpu_share": f"{cpu / elapsed:.0%} of one core",
                    "bot_cpu_ms_per_report": round(cpu / cases * 1000, 1),
                    "api_calls_per_report": round(calls / cases, 2),
                    "bot_cpu_ms_per_api_call": round(cpu / calls * 1000, 2),
                    "emulator_and_citizens_cpu": f"{own / elapsed:.0%} of one core"}
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
            await d.emu.stop()


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        skeleton(*sys.argv[2:5], int(sys.argv[5]), sys.argv[6])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--transport", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="the bot's HTTP client (bot/transport.py), or PTB's default httpx")
    args = parser.parse_args()
    for key, value in asyncio.run(run(args.cases, args.concurrency, args.transport)).items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

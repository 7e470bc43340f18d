"""The floor under bench.reports: a bot that makes a report's Telegram traffic and nothing else.

    python -m bench.floor [--cases 2000] [--concurrency 100] [--transport aiohttp|httpx] [--rows]

Same citizens, emulator and python-telegram-bot settings as bench.reports (own process,
per-chat update processor, 8 connections), but the bot is a skeleton: no database, no image
check, no core. Each report still costs the calls the real one makes: getFile and the download,
five messages (ask place, categories, ask note, summary, receipt), three callback answers, three
button removals, and the street's card (photo and venue). Whatever this skeleton reaches is an
upper bound for the real bot on this machine.

With --rows the skeleton also does the work no implementation of the product can skip: the photo's
check and stored copy (storage/media.py, as the bot does it) and the rows a report writes and reads,
in plain sqlite3 (bench/rows.py: each step durable, the case in one transaction, the two messages
marked sent). That is the floor of a bot on SQLite, before any line of its own logic.
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


def skeleton(base_url: str, base_file_url: str, token: str, group: int, transport: str, workdir: str) -> None:
    """The child process: answers each step as the real flow does, with the same API calls."""
    from telegram import InlineKeyboardButton as B
    from telegram import InlineKeyboardMarkup as K
    from telegram import KeyboardButton, ReplyKeyboardMarkup
    from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

    from bot.flood import FloodRetry
    from bot.transport import AiohttpRequest
    from bot.updates import PerChatUpdateProcessor

    rows = work = None
    if workdir:  # --rows
        from datetime import UTC, datetime

        from bench.rows import Rows, photo_of
        from storage import media
        from storage.db import migrate
        work = Path(workdir)
        migrate(f"sqlite+aiosqlite:///{work / 'rows.sqlite3'}")
        # The cheapest form: the rows written on the loop's thread (no hand-off), the photo written and
        # checked in one trip to a thread (the bot streams it to disk on the loop, then checks it in a thread).
        rows, now, numbers = Rows(work / "rows.sqlite3", inline=True), datetime.now(UTC), iter(range(10**9))

        def keep(part: Path, data: bytes):
            part.write_bytes(data)
            return media.inspect_and_store(part, work / "media", 20 << 20, 40_000_000)

    async def photo(update, context):
        file = await context.bot.get_file(update.message.photo[-1].file_id)
        user = update.effective_user.id
        if rows:
            rows.quota_used(user, now)
        data = await file.download_as_bytearray()
        if rows:
            await rows.quota_record(user, len(data), now)
            await asyncio.to_thread(keep, work / f"{update.update_id}.part", bytes(data))
            rows.draft(user)
            await rows.change(user, now, lambda d: d.setdefault("photos", []).append(photo_of(user, next(numbers))))
        await update.message.reply_text("请发送位置", reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📍", request_location=True)]], resize_keyboard=True, one_time_keyboard=True))
        context.user_data["photo"] = update.message.photo[-1].file_id

    async def place(update, context):
        where = context.user_data["place"] = update.message.location
        if rows:
            user = update.effective_user.id
            rows.prompt_for(user)
            await rows.change(user, now, lambda d: d.update(place={"lat": where.latitude, "lon": where.longitude,
                                                                   "source": "location", "title": None,
                                                                   "address": None}))
        await update.message.reply_text("请选择类别", reply_markup=K([[B("垃圾堆放", callback_data="c")]]))

    async def tap(update, context):
        query, user = update.callback_query, update.effective_user.id
        await query.answer()
        await query.edit_message_reply_markup(None)
        if rows and query.data in ("c", "d"):
            await rows.change(user, now, lambda d: d.update(category="garbage") if query.data == "c"
                              else d.update(description=""))
        if query.data == "c":
            await query.message.reply_text("补充说明?", reply_markup=K([[B("跳过", callback_data="d")]]))
        elif query.data == "d":
            await query.message.reply_text("摘要", reply_markup=K([[B("确认", callback_data="ok")]]))
        else:
            if rows:  # the case, then what the receipt and the card are rendered from
                case_id = await rows.submit(user, now, "street", group)
                rows.case_view(case_id)
                rows.case_view(case_id)
            receipt = await query.message.reply_text("已受理 GL-00000000-0000")
            where = context.user_data["place"]
            card = await context.bot.send_photo(group, context.user_data["photo"], caption="新案件")
            await context.bot.send_venue(group, where.latitude, where.longitude, "位置", "地址")
            if rows:  # the two outbox rows marked sent, the card's place remembered
                await rows.delivered(case_id, group, receipt.message_id, card.message_id, now)

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


async def run(cases: int, concurrency: int, transport: str, with_rows: bool = False) -> dict:
    cfg = load_config(ROOT / "config.yaml")
    with tempfile.TemporaryDirectory(prefix="frontline-floor-") as tmp:
        d = District(cfg, Path(tmp))
        await d.emu.start()
        d._make_groups()
        group = cfg.streets[0].chat_id
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.floor", "--child", d.emu.base_url, d.emu.base_file_url, d.emu.token,
            str(group), transport, tmp if with_rows else "", cwd=ROOT, env=dict(os.environ),
            stderr=asyncio.subprocess.DEVNULL)
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
        skeleton(*sys.argv[2:5], int(sys.argv[5]), sys.argv[6], sys.argv[7])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--transport", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="the bot's HTTP client (bot/transport.py), or PTB's default httpx")
    parser.add_argument("--rows", action="store_true",
                        help="also check and keep the photo and write the report's rows (bench/rows.py)")
    args = parser.parse_args()
    for key, value in asyncio.run(run(args.cases, args.concurrency, args.transport, args.rows)).items():
        print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The application: builds PTB's Application, wires the core, the handlers and the outbox worker."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from datetime import date

from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

import scheduler
from bot import commands, redact
from bot.cards import Renderer
from bot.config import Config, ConfigError
from bot.delivery import Delivery, RateLimiter
from bot.flood import FloodRetry
from bot.privacy import blind_grid_groups
from bot.reports import deliver as report_deliver
from bot.reports import schedule as report_schedule
from bot.serving import start_updates, stop_updates
from bot.transport import AiohttpRequest
from bot.updates import PerChatUpdateProcessor
from bot.uploads import receive_photo
from cases import bootstrap as maps
from cases.bootstrap import build_core, start_up_warnings
from cases.bootstrap import settings_from as core_settings
from cases.callbacks import PhoneBacks
from cases.checkin import OnSite
from cases.clock import SystemClock
from cases.core import Settings
from cases.prompts import Prompts
from cases.stats import DailySummaries
from cases.verification import Verification
from cases.workdays import WorkCalendar
from geo.streets import StreetIndex
from handlers import (
    admin,
    callbacks,
    checkin,
    citizen,
    copies,
    general,
    grid,
    owed,
    staff,
    stats,
    taps,
    verification,  # noqa: F401 (registers its buttons' handler)
)
from handlers.context import Services
from storage.db import open_database
from storage.media import tag_secret
from storage.retention import Retention
from storage.uploads import UploadQuota

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def build_application(cfg: Config, token: str, clock=None, limiter: RateLimiter | None = None) -> Application:
    # the outbox's; a 429 on a direct answer pauses its chat there too
    limiter = limiter or RateLimiter(cfg.telegram.limits.per_second, cfg.telegram.limits.per_group_minute)
    flood = FloodRetry(on_flood=lambda chat, wait: limiter.pause(chat, wait, time.monotonic()))
    redact.install(token)  # no log line, trace or error message shows the token
    net = {"proxy": cfg.telegram.proxy, "connect_timeout": cfg.telegram.connect_timeout}
    app = (ApplicationBuilder().token(token).base_url(cfg.telegram.base_url)
           .base_file_url(cfg.telegram.base_file_url).concurrent_updates(PerChatUpdateProcessor())
           .request(AiohttpRequest(connection_pool_size=16, pool_timeout=30, **net))
           .get_updates_request(AiohttpRequest(connection_pool_size=1, **net)).rate_limiter(flood)
           .context_types(ContextTypes(bot_data=Services))  # handlers read bot_data typed
           # Every text is HTML (ui/texts escapes each argument); times without a zone are the district's.
           .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=cfg.tz)).build())
    # what handlers need from bot/ is given here, so that handlers/ never imports bot/
    app.bot_data.update(config=cfg, clock=clock or SystemClock(), limiter=limiter, receive_photo=receive_photo,
                        reports=report_deliver)
    add_handlers(app)
    return app


def add_handlers(app: Application) -> None:
    # first (group -1): a tap on, or reply to, a copy of a card the database does not know records it
    app.add_handler(CallbackQueryHandler(copies.on_tap, pattern=copies.TAPPABLE), group=-1)
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.REPLY,
                                   copies.on_reply), group=-1)
    app.add_handler(CommandHandler("start", general.start))
    app.add_handler(CommandHandler("help", general.help_))
    app.add_handler(CommandHandler("cancel", general.cancel))
    app.add_handler(CommandHandler("bind", admin.bind))
    app.add_handler(CommandHandler("unbind", admin.unbind, filters.ChatType.GROUPS))
    app.add_handler(CommandHandler("revoke", admin.revoke, filters.ChatType.GROUPS))
    app.add_handler(CommandHandler("callback", callbacks.callback))  # 回访, by the command centre
    app.add_handler(CommandHandler("mycases", citizen.my_cases, filters.ChatType.PRIVATE))
    # 监督考核: /stats; oversight users' /case shows any case's full trace (before the citizen's own /case).
    app.add_handler(CommandHandler("stats", stats.stats))
    oversight = [p.user_id for p in app.bot_data["config"].oversight if p.user_id]
    if oversight:
        app.add_handler(CommandHandler("case", stats.oversight_case,
                                       filters.ChatType.PRIVATE & filters.User(oversight)))
    app.add_handler(CommandHandler("case", citizen.show_case, filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("withdraw", citizen.withdraw, filters.ChatType.PRIVATE))
    # every button's handler, under its buttons' patterns (handlers/taps.py, ui/buttons.py)
    if missing := taps.unhandled():
        raise RuntimeError(f"buttons without a handler: {', '.join(missing)}")
    for on_tap in taps.TAPS:
        app.add_handler(CallbackQueryHandler(on_tap, pattern=on_tap.pattern))
    app.add_handler(CallbackQueryHandler(general.unknown_tap))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & ~filters.REPLY
                                   & (filters.PHOTO | filters.LOCATION | filters.VENUE), grid.on_group_report))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.REPLY
                                   & (filters.PHOTO | filters.TEXT | filters.LOCATION | filters.VENUE)
                                   & ~filters.COMMAND, staff.on_group_reply))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE & filters.LOCATION,
                                   checkin.on_live_update))  # a live location moving during a check-in
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, citizen.on_photo))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, citizen.on_document))
    app.add_handler(MessageHandler(PRIVATE & (filters.LOCATION | filters.VENUE), citizen.on_place))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, citizen.on_text))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, general.help_))
    app.add_handler(MessageHandler(PRIVATE, citizen.on_other))
    app.add_error_handler(general.on_error)
    # a question lost to the network is asked again on the user's next message (after its own handler)
    app.add_error_handler(owed.remember)
    app.add_handler(MessageHandler(PRIVATE, owed.ask_again), group=1)


def settings_from(cfg: Config) -> Settings:
    return core_settings(cfg, tag_secret(cfg.media.dir))


def load_streets(cfg: Config) -> StreetIndex:
    try:
        return maps.load_streets(cfg)
    except maps.MapError as exc:
        raise ConfigError(str(exc)) from None


def load_grids(cfg: Config) -> StreetIndex | None:
    try:
        return maps.load_grids(cfg)
    except maps.MapError as exc:
        raise ConfigError(str(exc)) from None


async def bootstrap(app: Application, max_delay: float = 30) -> None:
    """app.initialize() (getMe) until the Bot API answers: a brief outage must not stop start-up."""
    delay = 0.5
    while True:
        try:
            await app.initialize()
            return
        except (NetworkError, TimedOut) as exc:
            log.warning("Bot API not reachable (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def start_bot(app: Application, poll_timeout: int = 10) -> None:
    cfg: Config = app.bot_data["config"]
    for year in {app.bot_data["clock"].now().year, app.bot_data["clock"].now().year + 1}:
        if not WorkCalendar.known(year):
            log.warning("chinesecalendar has no data for %s: working days fall back to weekdays + config", year)
    db = await open_database(cfg.database.url)
    streets = await asyncio.to_thread(load_streets, cfg)
    grids = await asyncio.to_thread(load_grids, cfg)
    await bootstrap(app)
    core = build_core(cfg, db, app.bot_data["clock"], streets, grids, tag_secret(cfg.media.dir))
    settings = core.settings
    for warning in start_up_warnings(cfg, settings, app.bot_data["clock"].now().astimezone(cfg.tz).date()):
        log.warning("%s", warning)
    await core.bindings.load()
    delivery = Delivery(db, Renderer(core, app.bot, cfg), app.bot_data.get("limiter"))
    core._on_outbox = delivery.wake
    # personal data and uploads (storage/retention.py, storage/uploads.py)
    retention = Retention(db, app.bot_data["clock"], cfg.media.dir, cfg.media.keep_days)
    core.on_photos_dropped = retention.forget
    uploads = UploadQuota(db, app.bot_data["clock"], cfg.intake.max_upload_mb_per_hour * 1024 * 1024)
    app.bot_data.update(core=core, db=db, delivery=delivery, retention=retention, uploads=uploads)
    app.bot_data["prompts"] = Prompts(db, core.clock)
    app.bot_data["onsite"] = OnSite(db, core.clock, core.settings, core.directory, core.outbox_written)
    app.bot_data["verification"] = Verification(db, core.clock, core.settings, core.directory, grids,
                                                core.outbox_written, core.open_deadline, core.disposal.ask_ratings,
                                                core.escalations.mark_difficult)
    app.bot_data["phonebacks"] = PhoneBacks(db, core.clock, core.settings, core.disposal.rate)
    parts = [app.bot_data["phonebacks"].summary]  # more of the daily summary, as data
    if settings.rota is not None:
        async def on_duty(day: date) -> dict:
            return {"duty": settings.rota.tomorrow(day)}
        parts.append(on_duty)
    app.bot_data["summaries"] = DailySummaries(db, core.clock, settings, core.outbox_written, parts)
    await commands.register(app.bot, cfg.language)
    await app.start()
    delivery.start()
    if cfg.api.listen:  # the Open311 API for the hotline and other channels (api/)
        from api.server import ApiServer
        app.bot_data["api"] = ApiServer(core, cfg)
        await app.bot_data["api"].start()
    app.create_task(blind_grid_groups(app.bot, core.directory.grid_chats), name="privacy-check")
    # After start: APScheduler drops a "run now" of a job added before it started (it computes the
    # first run from the start time), and deadlines that lapsed while we were down must fire now.
    scheduler.arm(app, summary_at=cfg.escalation.summary_time)
    app.job_queue.run_repeating(checkin.sweep_live, interval=15, first=15, name="live_checkins",
                                job_kwargs=scheduler.LATE_OK)  # live locations a minute on site, without an update
    report_schedule.arm(app)  # 监督考核: weekly / monthly / half-yearly reports
    # Bindings made by another process (a replica, the API) reach the buttons' membership checks too.
    app.job_queue.run_repeating(refresh_directory, interval=core.directory.max_age.total_seconds(),
                                name="directory", job_kwargs=scheduler.LATE_OK)
    # What start-up made lives as long as the bot: kept out of the collector's full passes, each of which
    # walked it for ~100 ms and held a citizen's answer that long (docs/BENCHMARKS.md). Thawed at stop.
    gc.freeze()
    await start_updates(app, poll_timeout)  # polling, or the webhook (bot/serving.py)


async def refresh_directory(context) -> None:
    core = context.bot_data["core"]
    await core.db.write(core.directory.refresh)


async def stop_bot(app: Application) -> None:
    await stop_updates(app)
    gc.unfreeze()  # what the bot held may be freed again (a test process starts many bots)
    if "api" in app.bot_data:
        await app.bot_data["api"].stop()
    if "delivery" in app.bot_data:
        await app.bot_data["delivery"].stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if "db" in app.bot_data:
        await app.bot_data["db"].dispose()


async def make_bind_code(cfg: Config, kind: str, target: str) -> str:
    """`python -m bot bind-code street 温泉街道`: a one-time code to send as /bind CODE in the group."""
    from cases.binding import KINDS, new_code
    from cases.clock import SystemClock
    if kind not in KINDS:
        raise ConfigError(f"bind-code: kind must be one of {', '.join(KINDS)}")
    names = {"street": [s.name for s in cfg.streets], "department": [d.key for d in cfg.departments],
             "grid": [g.name for g in cfg.grids], "worker": [g.name for g in cfg.grids]}[kind]
    if target not in names:
        raise ConfigError(f"bind-code: no {kind} {target!r} in the config (known: {', '.join(names)})")
    db = await open_database(cfg.database.url)
    try:
        now = SystemClock().now()
        return await db.write(lambda session: new_code(session, kind, target, now))
    finally:
        await db.dispose()

"""The application: builds PTB's Application, wires the core, the handlers and the outbox worker."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from pathlib import Path

from telegram import BotCommand
from telegram.error import NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

import scheduler
from bot.cards import Renderer
from bot.config import Config, ConfigError
from bot.delivery import Delivery, RateLimiter
from bot.flood import FloodRetry
from bot.serving import start_updates, stop_updates
from bot.transport import AiohttpRequest
from bot.updates import PerChatUpdateProcessor
from cases import Core
from cases.clock import SystemClock
from cases.core import Settings
from cases.policy import parse_duration
from cases.workdays import WorkCalendar
from geo.streets import StreetIndex
from handlers import citizen, general, grid, staff
from storage.db import open_database

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def build_application(cfg: Config, token: str, clock=None, limiter: RateLimiter | None = None) -> Application:
    # the outbox's; a 429 on a direct answer pauses its chat there too
    limiter = limiter or RateLimiter(cfg.telegram.limits.per_second, cfg.telegram.limits.per_group_minute)
    flood = FloodRetry(on_flood=lambda chat, wait: limiter.pause(chat, wait, time.monotonic()))
    app = (ApplicationBuilder().token(token).base_url(cfg.telegram.base_url)
           .base_file_url(cfg.telegram.base_file_url).concurrent_updates(PerChatUpdateProcessor())
           .request(AiohttpRequest(connection_pool_size=16, pool_timeout=30))
           .get_updates_request(AiohttpRequest(connection_pool_size=1)).rate_limiter(flood).build())
    app.bot_data.update(config=cfg, clock=clock or SystemClock(), limiter=limiter)
    add_handlers(app)
    return app


def add_handlers(app: Application) -> None:
    app.add_handler(CommandHandler("start", general.start))
    app.add_handler(CommandHandler("help", general.help_))
    app.add_handler(CommandHandler("cancel", general.cancel))
    app.add_handler(CommandHandler("bind", general.bind))
    app.add_handler(CommandHandler("mycases", citizen.my_cases, filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("case", citizen.show_case, filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(staff.on_accept, pattern=r"^a:"))
    app.add_handler(CallbackQueryHandler(staff.on_route, pattern=r"^r:"))
    app.add_handler(CallbackQueryHandler(staff.on_street_action, pattern=r"^[RNCK]:"))
    app.add_handler(CallbackQueryHandler(staff.on_call_confirm, pattern=r"^T:"))
    app.add_handler(CallbackQueryHandler(staff.on_department_action, pattern=r"^[AX]:"))
    app.add_handler(CallbackQueryHandler(staff.on_mutual_rating, pattern=r"^[mn]:"))
    app.add_handler(CallbackQueryHandler(staff.on_extend_menu, pattern=r"^[WV]:"))
    app.add_handler(CallbackQueryHandler(staff.on_extend_pick, pattern=r"^E:"))
    app.add_handler(CallbackQueryHandler(staff.on_extend_decide, pattern=r"^[YZ]:"))
    app.add_handler(CallbackQueryHandler(staff.on_flag_difficult, pattern=r"^[MQ]:"))
    app.add_handler(CallbackQueryHandler(staff.on_assign, pattern=r"^D:"))
    app.add_handler(CallbackQueryHandler(citizen.on_rating, pattern=r"^v:"))
    app.add_handler(CallbackQueryHandler(citizen.on_skip_comment, pattern=r"^k$"))
    app.add_handler(CallbackQueryHandler(citizen.on_tap, pattern=r"^(c:|d:|g:|e$|e:|ok$|x$)"))
    app.add_handler(CallbackQueryHandler(general.unknown_tap))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & ~filters.REPLY
                                   & (filters.PHOTO | filters.LOCATION | filters.VENUE), grid.on_group_report))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.REPLY
                                   & (filters.PHOTO | filters.TEXT | filters.LOCATION | filters.VENUE)
                                   & ~filters.COMMAND, staff.on_group_reply))
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, citizen.on_photo))
    app.add_handler(MessageHandler(PRIVATE & filters.Document.ALL, citizen.on_document))
    app.add_handler(MessageHandler(PRIVATE & (filters.LOCATION | filters.VENUE), citizen.on_place))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, citizen.on_text))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, general.help_))
    app.add_handler(MessageHandler(PRIVATE, citizen.on_other))
    app.add_error_handler(general.on_error)


def tag_secret(media_dir: Path) -> bytes:
    """The key of reporters' anonymous tags: made once, kept beside the media."""
    path = media_dir / ".tag_secret"
    if not path.exists():
        media_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        os.chmod(path, 0o600)
    return path.read_text().strip().encode()


def settings_from(cfg: Config) -> Settings:
    calendar = WorkCalendar(set(cfg.workdays.holidays), set(cfg.workdays.workdays))
    return Settings(
        categories=cfg.categories_by_key(), street_chats={s.name: s.chat_id for s in cfg.streets},
        command_chat=cfg.command_center.chat_id, tz=cfg.tz, calendar=calendar, case_prefix=cfg.case_prefix,
        draft_ttl=parse_duration(cfg.intake.draft_ttl).as_timedelta(),
        max_photos=cfg.intake.max_photos, max_cases_per_hour=cfg.intake.max_cases_per_hour,
        departments={d.key: (d.zh, d.en, d.chat_id) for d in cfg.departments}, group_lang=cfg.language,
        trackers={d.key: d.tracked_by for d in cfg.departments if d.tracked_by},
        grid_chats={g.name: g.chat_id for g in cfg.grids},
        grid_workers={w: g.name for g in cfg.grids for w in g.workers},
        checkin_radius_m=cfg.disposal.checkin_radius_m,
        call_answer=parse_duration(cfg.disposal.call_answer).as_timedelta(),
        rating_timeout=parse_duration(cfg.disposal.rating_timeout).as_timedelta(),
        warn_at=cfg.escalation.warn_at,
        escalate_after=tuple(parse_duration(x, allow_zero=True).as_timedelta() for x in cfg.escalation.after),
        chains={**{u.name: _chain(u) for u in cfg.streets}, **{u.zh: _chain(u) for u in cfg.departments}},
        duty_leaders=[(p.name, p.user_id) for p in cfg.escalation.duty_leaders if p.user_id],
        max_extensions=cfg.escalation.max_extensions,
        tag_secret=tag_secret(cfg.media.dir), street_names_en={s.name: s.name_en or s.name for s in cfg.streets})


def _chain(unit) -> dict:
    return {role: (p.name, p.user_id) for role in ("deputy", "chief") if (p := getattr(unit, role))}


def load_streets(cfg: Config) -> StreetIndex:
    index = StreetIndex.from_geojson(cfg.geo.streets_file, crs=cfg.geo.crs, tolerance_m=cfg.geo.tolerance_m)
    missing = [s.name for s in cfg.streets if s.name not in index.names]
    if missing:
        raise ConfigError(f"streets: {', '.join(missing)} not found in {cfg.geo.streets_file}")
    return index


def load_grids(cfg: Config) -> StreetIndex | None:
    """The optional grid cell layer: the same index as the streets', with no tolerance (inside or not)."""
    if not cfg.geo.grids_file:
        return None
    index = StreetIndex.from_geojson(cfg.geo.grids_file, crs=cfg.geo.crs, tolerance_m=0)
    missing = [g.name for g in cfg.grids if g.name not in index.names]
    if missing:
        raise ConfigError(f"grids: {', '.join(missing)} not found in {cfg.geo.grids_file}")
    return index


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
    core = Core(db, app.bot_data["clock"], settings_from(cfg), streets, grids=grids)
    await core.load_bindings()
    delivery = Delivery(db, Renderer(core, app.bot, cfg), app.bot_data.get("limiter"))
    core._on_outbox = delivery.wake
    app.bot_data.update(core=core, db=db, delivery=delivery)
    await app.bot.set_my_commands([BotCommand("start", "开始 / start"), BotCommand("help", "帮助 / help"),
                                   BotCommand("mycases", "我的诉求 / my reports"),
                                   BotCommand("case", "查看诉求 / show a report"),
                                   BotCommand("cancel", "取消 / cancel")])
    await app.start()
    delivery.start()
    # After start: APScheduler drops a "run now" of a job added before it started (it computes the
    # first run from the start time), and deadlines that lapsed while we were down must fire now.
    scheduler.arm(app, summary_at=cfg.escalation.summary_time)
    await start_updates(app, poll_timeout)  # polling, or the webhook (bot/serving.py)


async def stop_bot(app: Application) -> None:
    await stop_updates(app)
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

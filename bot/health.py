"""GET /healthz: 200 when this replica can do its work, 503 (with the reason) when it cannot.

Checks: the database answers; the Bot API answered within the last minute (else getMe is tried);
the oldest unsent outbox row is younger than MAX_OUTBOX_AGE; the deadline pass (any replica's: the
time is kept in the database) ran within MAX_DEADLINE_GAP. The body is JSON with each check.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select, text

from storage.models import Outbox, ServiceState
from storage.service_state import DEADLINES

MAX_OUTBOX_AGE = timedelta(minutes=15)  # a group's backlog under the 20-a-minute limit stays well below
MAX_DEADLINE_GAP = timedelta(minutes=5)  # the pass runs at least every 30 s
BOT_API_FRESH = 60.0  # seconds: a Bot API success this recent needs no probe
LAST_BOT_API_OK = {"at": 0.0}  # set by the transport on every answered call (monotonic)


def bot_api_answered() -> None:
    LAST_BOT_API_OK["at"] = time.monotonic()


async def check(app) -> tuple[bool, dict]:
    db, core = app.bot_data["db"], app.bot_data["core"]
    now = core.now()
    checks: dict = {}
    try:
        async with db.sessions() as s:
            await asyncio.wait_for(s.execute(text("SELECT 1")), 5)
            oldest = await s.scalar(select(func.min(Outbox.created_at)).where(Outbox.status == "pending"))
            ran = await s.get(ServiceState, DEADLINES)
        checks["database"] = {"ok": True}
        age = (now - oldest).total_seconds() if oldest else 0.0
        checks["outbox"] = {"ok": age <= MAX_OUTBOX_AGE.total_seconds(), "oldest_pending_s": round(age, 1)}
        gap = (now - ran.at).total_seconds() if ran else None
        checks["deadlines"] = {"ok": gap is not None and gap <= MAX_DEADLINE_GAP.total_seconds(),
                               "last_run_s_ago": None if gap is None else round(gap, 1)}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["bot_api"] = {"ok": await _bot_api_ok(app)}
    return all(c["ok"] for c in checks.values()), checks


async def _bot_api_ok(app) -> bool:
    if time.monotonic() - LAST_BOT_API_OK["at"] < BOT_API_FRESH:
        return True
    try:
        await asyncio.wait_for(app.bot.get_me(), 5)
        return True
    except Exception:
        return False


def add_routes(app, server) -> None:
    async def healthz(request: web.Request) -> web.Response:
        ok, checks = await check(app)
        return web.json_response({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)
    server.extra.append(("GET", "/healthz", healthz))

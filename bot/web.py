"""The bot's own HTTP server (aiohttp): the Telegram webhook, GET /healthz and GET /metrics.

Webhook: a POST without the configured secret in X-Telegram-Bot-Api-Secret-Token is refused (403)
before its body is read. An update is answered 200 only once it has been handled (or found handled
before: bot/replicas.py), so a replica that dies mid-update gets no 200 and Telegram delivers the
update again, to whichever replica the load balancer picks.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.metrics import UPDATE_SECONDS
from bot.replicas import UpdateGate
from bot.updates import _key

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, app, listen: str, port: int, webhook_url: str | None = None, secret: str | None = None,
                 gate: UpdateGate | None = None):
        self.app, self.listen, self.port = app, listen, port
        self.secret, self.gate = secret, gate
        self.path = (urlparse(webhook_url).path or "/") if webhook_url else None
        self._runner: web.AppRunner | None = None
        self.extra: list[tuple[str, str, object]] = []  # (method, path, handler): health and metrics

    async def start(self) -> None:
        server = web.Application(client_max_size=4 * 1024 * 1024)
        if self.path:
            server.router.add_post(self.path, self._telegram)
        for method, path, handler in self.extra:
            server.router.add_route(method, path, handler)
        self._runner = web.AppRunner(server, access_log=None, shutdown_timeout=10.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        self.port = self._runner.addresses[0][1]  # the real one when port=0

    async def stop(self) -> None:
        if self._runner:  # finishes the requests under way first
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"{self.base}{self.path or '/'}"

    @property
    def base(self) -> str:
        return f"http://{self.listen}:{self.port}"

    async def _telegram(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request refused: wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.app.bot)
        except Exception:
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        with UPDATE_SECONDS.time():
            await self.gate.handle(update.update_id, _key(update), lambda: self.app.process_update(update))
        return web.Response(status=200)

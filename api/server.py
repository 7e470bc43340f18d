"""Serving the API: inside the bot process (config `api.listen`) or alone (`python -m bot api`, same
database; the bot process then sends the cards, whose delivery worker polls the outbox)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from api.auth import Keys, channels_from
from api.callbacks import Callbacks
from api.errors import spec_errors
from api.routes import Routes
from cases.channels import ChannelIntake

log = logging.getLogger(__name__)


class ApiServer:
    def __init__(self, core, cfg):
        self.core, self.cfg = core, cfg
        channels = channels_from(cfg.api.channels)
        self.keys = Keys(channels)
        self.intake = ChannelIntake(core)
        self.routes = Routes(core, self.intake, self.keys, cfg)
        self.callbacks = Callbacks(core.db, channels, core.settings.tz, timeout=cfg.api.media_timeout)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        wake = core._on_outbox  # a commit that wrote outbox rows wakes both workers
        core._on_outbox = lambda: (wake(), self.callbacks.wake())

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[spec_errors], client_max_size=self.cfg.api.max_body)
        self.routes.add_to(app)
        return app

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        host = host or self.cfg.api.listen
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.cfg.api.port if port is None else port, backlog=512)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.callbacks.start()
        log.info("Open311 API on http://%s:%s/open311/v2/", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        await self.callbacks.stop()


async def run_alone(cfg) -> None:
    """`python -m bot api`: the API and its callbacks without Telegram, on the bot's database."""
    import signal

    from cases.bootstrap import core_from_config
    from cases.clock import SystemClock
    from storage.db import open_database
    db = await open_database(cfg.database.url)
    core = await asyncio.to_thread(core_from_config, cfg, db, SystemClock())
    await core.bindings.load()
    server = ApiServer(core, cfg)
    await server.start(cfg.api.listen or "127.0.0.1")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        await db.dispose()

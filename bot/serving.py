"""How updates reach the bot: long polling (the default, one process) or the webhook (replicas).

Both modes keep Telegram's queue: polling never drops pending updates, the webhook is set with
drop_pending_updates=False and is left set when a replica stops (the others still serve it, and
Telegram keeps what arrives while none does).
"""

from __future__ import annotations

from telegram import Update

from bot import health, metrics
from bot.config import Config, ConfigError
from bot.replicas import UpdateGate
from bot.web import WebServer


async def start_updates(app, poll_timeout: int = 10) -> None:
    cfg: Config = app.bot_data["config"]
    core = app.bot_data["core"]
    gate = UpdateGate(app.bot_data["db"], core.now, cfg.webhook.max_connections)
    app.bot_data["gate"] = gate

    async def sweep(context) -> None:  # forget update ids Telegram would no longer redeliver
        await gate.sweep()
    app.job_queue.run_repeating(sweep, interval=3600, first=60, name="handled-updates")
    if cfg.telegram.mode == "webhook":
        secret = cfg.webhook.secret_token
        if not secret:
            raise ConfigError(f"webhook mode needs a secret token in ${cfg.webhook.secret_token_env}: without "
                              "it anyone who learns the URL could post updates")
        server = WebServer(app, cfg.webhook.listen, cfg.webhook.port, cfg.webhook.url, secret, gate)
        _add_monitoring(app, server)
        await server.start()
        app.bot_data["web"] = server
        await app.bot.set_webhook(cfg.webhook.url, secret_token=secret, drop_pending_updates=False,
                                  max_connections=cfg.webhook.max_connections, allowed_updates=Update.ALL_TYPES)
        return
    if cfg.monitoring.port is not None:
        server = WebServer(app, cfg.monitoring.listen, cfg.monitoring.port)
        _add_monitoring(app, server)
        await server.start()
        app.bot_data["web"] = server
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout, bootstrap_retries=-1)


async def stop_updates(app) -> None:
    if app.updater and app.updater.running:
        await app.updater.stop()
    if server := app.bot_data.pop("web", None):
        await server.stop()
    if gate := app.bot_data.get("gate"):
        await gate.close()


def _add_monitoring(app, server: WebServer) -> None:
    """GET /healthz and GET /metrics (bot/health.py, bot/metrics.py)."""
    health.add_routes(app, server)
    metrics.add_routes(app, server)

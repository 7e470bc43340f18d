"""`python -m bot [--config PATH] [--demo]`: the real bot when a token is set, else the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot import logs
from bot.app import build_application, make_bind_code, start_bot, stop_bot
from bot.config import ConfigError, load_config


async def run_real(cfg, token: str) -> None:
    app = build_application(cfg, token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await start_bot(app)
    logging.getLogger("bot").info("Frontline is running as @%s", app.bot.username)
    try:
        await stop.wait()
    finally:
        await stop_bot(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", default="config.yaml", help="path of the config file (default config.yaml)")
    parser.add_argument("--demo", action="store_true", help="run the demo even if a token is set")
    parser.add_argument("command", nargs="*",
                        help="bind-code street|department|grid|worker NAME: print a one-time /bind code; "
                             "backup PATH: copy the database while the bot runs")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="one line per event: text (default) or json for log collectors")
    args = parser.parse_args(argv)
    logs.setup(args.log_format)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    logs.setup(args.log_format, secrets=[cfg.telegram.token, cfg.webhook.secret_token])
    if args.command[:1] == ["backup"]:  # python -m bot backup PATH (bot/backup.py)
        from pathlib import Path

        from bot.backup import backup
        if len(args.command) != 2:
            parser.error("backup PATH")
        try:
            print(backup(cfg.database.url, Path(args.command[1])))
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        return 0
    if args.command:
        if len(args.command) != 3 or args.command[0] != "bind-code":
            parser.error("commands: bind-code street|department|grid|worker NAME")
        try:
            code = asyncio.run(make_bind_code(cfg, args.command[1], args.command[2]))
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        where = "your private chat with the bot" if args.command[1] == "worker" else f"the {args.command[1]}'s group"
        print(f"{code}\nSend this in {where}: /bind {code}")
        return 0
    token = cfg.telegram.token
    if token and not args.demo:
        asyncio.run(run_real(cfg, token))
        return 0
    from bot.demo import run_demo
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(run_demo(cfg))


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot [--config PATH] [--demo]`: the real bot when a token is set, else the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot import logs
from bot.app import build_application, make_bind_code, start_bot, stop_bot
from bot.config import ConfigError, load_config
from bot.shipped import DEFAULT_CONFIG


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


def config_path(given: str | None) -> tuple[Path, bool]:
    """The config to read, and whether it is the demo's config shipped inside the package."""
    if given is not None:
        return Path(given), False
    here = Path("config.yaml")
    return (here, False) if here.exists() else (DEFAULT_CONFIG, True)


def argv_rest(argv: list[str] | None, command: str) -> list[str]:
    """The subcommand and everything after it (its own options are parsed by its own parser)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return argv[argv.index(command):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", help="path of the config file (default: config.yaml here, else the demo's "
                                         "config shipped with the package)")
    parser.add_argument("--demo", action="store_true", help="run the demo even if a token is set")
    parser.add_argument("--stay", action="store_true",
                        help="demo: keep the Open311 API up on api.port afterwards, for curl (Ctrl-C stops)")
    parser.add_argument("command", nargs="*",
                        help="bind-code street|department|grid|worker NAME: print a one-time /bind code; "
                             "revoke worker USER_ID: a grid worker loses the fast flow; "
                             "api: serve the Open311 API alone; "
                             "simulate …; report … (python -m bot simulate --help); "
                             "backup PATH: copy the database while the bot runs")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="one line per event: text (default) or json for log collectors")
    args, _rest = parser.parse_known_args(argv)
    logs.setup(args.log_format)
    path, shipped = config_path(args.config)
    try:
        cfg = load_config(path)
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
    if shipped and (args.command or (cfg.telegram.token and not args.demo)):
        # Its paths (database, media) lie inside the installed package: only the demo, which works in a
        # temporary directory, may run on it.
        print("config error: no config.yaml here; give --config PATH (the shipped config runs the demo only)",
              file=sys.stderr)
        return 2
    if args.command[:2] == ["revoke", "worker"]:
        if len(args.command) != 3 or not args.command[2].isdigit():
            parser.error("revoke worker USER_ID")
        from bot.cli import revoke_worker
        grid = asyncio.run(revoke_worker(cfg, int(args.command[2])))
        if grid is None:
            print(f"{args.command[2]} is not (or no longer) a grid worker", file=sys.stderr)
            return 2
        print(f"grid worker {args.command[2]} ({grid}) revoked")
        return 0
    if args.command == ["api"]:  # the Open311 API alone, on the bot's database
        from api.server import run_alone
        asyncio.run(run_alone(cfg))
        return 0
    if args.command and args.command[0] in ("simulate", "report"):  # 监督考核: bot/reports/cli.py
        from bot.reports.cli import main as assessment_main
        return assessment_main(cfg, argv_rest(argv, args.command[0]))
    if args.command:
        if len(args.command) != 3 or args.command[0] != "bind-code":
            parser.error("commands: bind-code street|department|grid|worker NAME; revoke worker USER_ID")
        try:
            code = asyncio.run(make_bind_code(cfg, args.command[1], args.command[2]))
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        where = "your private chat with the bot" if args.command[1] == "worker" else f"the {args.command[1]}'s group"
        print(f"{code}\nSend this in {where}: /bind {code}\n(valid once, for {cfg.binding.code_ttl})")
        return 0
    token = cfg.telegram.token
    if token and not args.demo:
        try:
            asyncio.run(run_real(cfg, token))
        except Exception:  # logged, not printed by Python: the log redacts the token (PTB's InvalidToken holds it)
            logging.getLogger("bot").exception("Frontline stopped")
            return 1
        return 0
    from demo.walk import run_demo
    logging.getLogger().setLevel(logging.WARNING)
    try:
        return asyncio.run(run_demo(cfg, stay=args.stay))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

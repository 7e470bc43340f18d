"""Logging for operators and collectors: one line per event, text or JSON (`--log-format json`).

No secret and no citizen identity in the output: the bot token and the webhook secret are replaced
wherever they appear (PTB's own messages can quote a URL), and our messages name private chats only
as "a private chat". APScheduler's per-job INFO lines (several a second under load) are left out.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

QUIET = {"apscheduler": logging.WARNING, "httpx": logging.WARNING, "aiohttp.access": logging.WARNING}


class Redact(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            msg = record.getMessage()
            if any(s in msg for s in self.secrets):
                for s in self.secrets:
                    msg = msg.replace(s, "<redacted>")
                record.msg, record.args = msg, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:  # a traceback stays on its event's line
        return super().format(record).replace("\n", "\\n")


def setup(fmt: str = "text", secrets: list[str] | None = None, level: int = logging.INFO) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact(secrets or []))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, lvl in QUIET.items():
        logging.getLogger(name).setLevel(lvl)
    return handler


def chat_label(chat_id: int | None) -> str:
    """A group's id is no one's identity; a private chat's id is a person's Telegram id."""
    return str(chat_id) if chat_id is None or chat_id < 0 else "a private chat"

"""The bot token never in a log line, a trace or an error message.

The token is the bot: whoever reads it can read every group's cards. It travels in every Bot API URL
(`…/bot<TOKEN>/getUpdates`), and aiohttp and PTB put URLs and tokens in their error messages. Two
layers: the transport raises errors whose text and chain hold no URL (bot/transport.py), and every log
record is redacted when it is made, traceback included, whichever logger or handler it goes to.
"""

from __future__ import annotations

import logging
import re

# A Telegram token: the bot's id, a colon, 35 characters of base64url. Also matched when no token was
# registered (a second bot, a token pasted into a config error).
TOKEN = re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}")
MASK = "<token>"
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return TOKEN.sub(MASK, text)


def register(secret: str | None) -> None:
    """Redact this secret as well as anything shaped like a token."""
    if secret:
        _secrets.add(secret)


def install(secret: str | None = None) -> None:
    """Redact every log record from now on (idempotent): its message with its arguments, its
    traceback and stack. A record factory, not a handler filter: it covers handlers added later
    (pytest's, an operator's) and records of every logger."""
    global _installed
    register(secret)
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for the handler to report
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record
    logging.setLogRecordFactory(factory)

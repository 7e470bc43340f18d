"""Direct answers survive Telegram's flood control (429 Too Many Requests).

The bot answers a user's own step at once (the next question, a button's answer, a card edited
after a tap) instead of queueing it in the outbox. When Telegram refuses one with 429, PTB raises
RetryAfter and the user would be left without the question. This limiter, PTB's hook for the job,
waits `retry_after` and sends again, a few times, and tells the outbox worker to leave that chat
alone meanwhile. The outbox worker handles its own 429s (it keeps the row and its place in line):
its sends run with IN_OUTBOX set and pass straight through. A direct answer refused with 5xx (or
never connected) is sent again too, up to 3 times after 0.5, 1 and 2 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta

from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.logs import chat_label

log = logging.getLogger(__name__)

IN_OUTBOX: ContextVar[bool] = ContextVar("in_outbox", default=False)


class FloodRetry(BaseRateLimiter[int]):
    def __init__(self, max_retries: int = 3, max_wait: float = 60.0,
                 on_flood: Callable[[int | None, float], None] | None = None):
        self.max_retries, self.max_wait, self.on_flood = max_retries, max_wait, on_flood

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        attempt = failed = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except NetworkError as exc:
                # A 5xx or a refused connection: Telegram did not take the request, so sending it again
                # cannot duplicate it (a timeout could have: not retried). The outbox retries its own.
                if isinstance(exc, TimedOut) or IN_OUTBOX.get() or failed >= self.max_retries:
                    raise
                failed += 1
                log.warning("%s: %s, retry %d in %.1fs", endpoint, exc.message, failed, 0.25 * 2 ** failed)
                await asyncio.sleep(0.25 * 2 ** failed)
            except RetryAfter as exc:
                wait = seconds(exc.retry_after)
                if IN_OUTBOX.get() or attempt >= self.max_retries or wait > self.max_wait:
                    raise
                attempt += 1
                chat = _chat(data)
                if self.on_flood:
                    self.on_flood(chat, wait)
                log.warning("%s to %s: 429, retry %d in %.1fs", endpoint, chat_label(chat), attempt, wait)
                await asyncio.sleep(wait)


def seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat(data: dict) -> int | None:
    try:
        return int(data.get("chat_id"))
    except (TypeError, ValueError):  # answerCallbackQuery has no chat; a channel may be "@name"
        return None

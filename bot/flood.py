"""Direct answers survive Telegram's flood control (429 Too Many Requests) and a passing 5xx.

The bot answers a user's own step at once (the next question, a button's answer, a card edited
after a tap) instead of queueing it in the outbox. When Telegram refuses one with 429, PTB raises
RetryAfter and the user would be left without the question. This limiter, PTB's hook for the job,
waits `retry_after` and sends again, a few times, and tells the outbox worker to leave that chat
alone meanwhile. The outbox worker handles its own 429s (it keeps the row and its place in line):
its sends run with IN_OUTBOX set and pass straight through.

A 5xx (502 Bad Gateway…) or a connection failure is retried the same way, briefly (NETWORK_WAITS);
not a timeout, which may have reached Telegram (a question asked twice is not worth the risk of an
edit or a callback answer repeated), and not a 400. What still fails is left to handlers/owed.py,
which asks the question again on the user's next message.

A button's answer (answerCallbackQuery) only stops the spinner on the user's phone. When it cannot be
given (Telegram answered 502 after it took effect, so the retry finds the query answered; or the tap
is older than Telegram's window), the tap's work must still be done: the failure is logged and the
call returns as if answered, instead of ending the handler before its work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.logs import chat_label

log = logging.getLogger(__name__)

IN_OUTBOX: ContextVar[bool] = ContextVar("in_outbox", default=False)
NETWORK_WAITS = (0.25, 0.5, 1.0)  # seconds before each retry of a direct answer after a 5xx or network error


class FloodRetry(BaseRateLimiter[int]):
    def __init__(self, max_retries: int = 3, max_wait: float = 60.0,
                 on_flood: Callable[[int | None, float], None] | None = None,
                 network_waits: tuple[float, ...] = NETWORK_WAITS):
        self.max_retries, self.max_wait, self.on_flood = max_retries, max_wait, on_flood
        self.network_waits = network_waits

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        try:
            return await self._send(callback, args, kwargs, endpoint, data)
        except TelegramError as exc:
            if endpoint != "answerCallbackQuery":
                raise
            log.warning("answerCallbackQuery not given (%s): the tap is handled all the same", exc.message)
            return True

    async def _send(self, callback, args, kwargs, endpoint, data):
        attempt = failed = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if IN_OUTBOX.get() or failed >= len(self.network_waits):
                    raise
                wait, failed = self.network_waits[failed], failed + 1
                log.warning("%s to %s: %s, retry %d in %.2fs", endpoint, _chat(data), exc.message, failed, wait)
                await asyncio.sleep(wait)
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

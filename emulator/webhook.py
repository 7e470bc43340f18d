"""The emulator's webhook: after setWebhook, updates are POSTed to the bot as Telegram does.

Up to `max_connections` deliveries at once, oldest update first, but one at a time per chat: a
chat's next update goes only after the bot has answered the previous one (as Telegram delivers a
chat's updates in order); an update is forgotten only when
the bot answers 2xx, otherwise it is tried again after a pause (Telegram retries too), so a replica
that dies mid-request loses nothing. `emu.webhook_targets` stands in for a load balancer: when set, deliveries
go round-robin to those URLs instead of the registered one (tests of several replicas).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging

import aiohttp

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


class WebhookPusher:
    def __init__(self, emu, url: str, secret: str | None, max_connections: int = 40, retry_s: float = 0.2):
        self.emu, self.url, self.secret = emu, url, secret
        self.max_connections, self.retry_s = max_connections, retry_s
        self._rr = itertools.count()
        self.in_flight: set[int] = set()
        self.log: list[tuple[int, str, int | str]] = []  # (update_id, url, HTTP status or error)
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="emulator-webhook")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session:
            await self._session.close()
            self._session = None

    def _next(self) -> dict | None:
        busy: set = set()
        for u in self.emu._updates:
            chat = _chat_of(u)
            if u["update_id"] not in self.in_flight and (chat is None or chat not in busy):
                return u
            busy.add(chat)
        return None

    async def _run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        gate = asyncio.Semaphore(self.max_connections)
        while True:
            async with self.emu._inbox:
                await self.emu._inbox.wait_for(lambda: self._next() is not None and not gate.locked())
            update = self._next()
            self.in_flight.add(update["update_id"])
            await gate.acquire()
            asyncio.create_task(self._deliver(update, gate))

    async def _deliver(self, update: dict, gate: asyncio.Semaphore) -> None:
        targets = self.emu.webhook_targets
        url = targets[next(self._rr) % len(targets)] if targets else self.url
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        try:
            async with self._session.post(url, data=json.dumps(update, ensure_ascii=False), headers=headers) as r:
                status: int | str = r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        self.log.append((update["update_id"], url, status))
        if isinstance(status, int) and 200 <= status < 300:
            self.emu._updates = [u for u in self.emu._updates if u["update_id"] != update["update_id"]]
            await self.emu._notify()
        else:
            await asyncio.sleep(self.retry_s)
        self.in_flight.discard(update["update_id"])
        gate.release()
        async with self.emu._inbox:
            self.emu._inbox.notify_all()


def _chat_of(update: dict):
    for kind in ("message", "edited_message", "channel_post"):
        if kind in update:
            return update[kind]["chat"]["id"]
    if "callback_query" in update:
        msg = update["callback_query"].get("message")
        return msg["chat"]["id"] if msg else ("user", update["callback_query"]["from"]["id"])
    return None

"""Follow-up to a channel: each change of state of its case, POSTed to its callback_url.

The rows are the outbox's (kind `callback`, chat CHANNEL_CHAT), written in the transaction of the
change itself, so none is lost; this worker sends them over HTTP on its own, so a slow or dead
callback never holds up Telegram delivery. Each body is signed: X-Open311-Signature is
`sha256=` + the hex HMAC-SHA256 of the body under the channel's api_key. A case's callbacks go one at
a time, in the order they were written; a failure is retried with back-off (0.5 s · 2ⁿ, at most
10 min), without end: the log on the row says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select, update

from storage.models import Case, Outbox
from storage.outbox import CHANNEL_CHAT

log = logging.getLogger(__name__)

# What the core tells a reporter, as the state the channel is told about.
EVENTS = {"receipt": "received", "accepted": "accepted", "n_called": "called", "n_on_site": "on_site",
          "rating_request": "resolved", "n_reopened": "reopened", "n_thanks": "closed",
          "n_closed_unrated": "closed"}
WORDS = {"received": "已受理", "accepted": "街镇已接单", "called": "已呼叫部门", "on_site": "部门已到场",
         "resolved": "已办结，待回访", "reopened": "不满意，已重办", "closed": "已结案"}
MAX_DELAY = 600.0
GATHER = 0.05  # seconds a woken worker waits for more rows before its pass


def sign(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class Callbacks:
    def __init__(self, db, channels: dict, tz, timeout: float = 10.0, batch: int = 200, parallel: int = 8):
        self.db, self.sessions, self.channels, self.tz = db, db.sessions, channels, tz
        self.timeout, self.batch, self.parallel = timeout, batch, parallel
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._http: aiohttp.ClientSession | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout), trust_env=True)
        self._task = asyncio.create_task(self._loop(), name="channel-callbacks")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, self.timeout + 1)
            except TimeoutError:
                pass
        if self._http:
            await self._http.close()

    async def _loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(GATHER)  # callbacks of many commits in one pass
            if self._stopping:  # stop() woke us during the sleep: that wake must not be cleared
                break
            self._wake.clear()
            try:
                pause = await self.run_once()
            except Exception:  # the worker outlives a bad row or a database hiccup
                log.exception("callback pass failed")
                pause = 1.0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=5.0 if pause is None else min(pause, 5.0))
            except TimeoutError:
                pass

    async def run_once(self) -> float | None:
        """Send the oldest pending callback of each case that may go now; seconds until more may go."""
        now = datetime.now(UTC)
        async with self.sessions() as session:
            rows = list(await session.scalars(select(Outbox).where(
                Outbox.status == "pending", Outbox.chat_id == CHANNEL_CHAT).order_by(Outbox.id).limit(self.batch)))
        firsts: dict[int, Outbox] = {}
        for row in rows:
            firsts.setdefault(row.case_id, row)  # a case's later rows wait: its order is kept
        going = [r for r in firsts.values() if r.not_before is None or r.not_before <= now]
        async with self.sessions() as session:
            cases = {c.id: c for c in await session.scalars(select(Case).where(
                Case.id.in_({r.case_id for r in rows})))} if rows else {}
        unsent = [r.id for r in rows if not self._url_of(cases[r.case_id].channel)]  # no callback_url: done
        done = set(unsent)
        going = [r for r in going if r.id not in done]
        waits = [(r.not_before - now).total_seconds() for r in firsts.values()
                 if r.not_before is not None and r.not_before > now]
        gate = asyncio.Semaphore(self.parallel)

        async def one(row: Outbox) -> dict | None:
            async with gate:
                return await self.deliver(row, cases[row.case_id])
        retries = dict(zip([r.id for r in going], await asyncio.gather(*(one(r) for r in going)), strict=True))
        sent = [i for i, retry in retries.items() if retry is None]
        if unsent or retries:  # the pass's outcome in one transaction, not one per callback
            def tx(session):
                if unsent:
                    session.execute(update(Outbox).where(Outbox.id.in_(unsent)).values(
                        status="sent", sent_at=now, log=["no callback_url"]))
                if sent:
                    session.execute(update(Outbox).where(Outbox.id.in_(sent)).values(
                        status="sent", sent_at=datetime.now(UTC)))
                for row_id, retry in retries.items():
                    if retry is not None:
                        session.execute(update(Outbox).where(Outbox.id == row_id).values(**retry))
            await self.db.write(tx)
        if going or unsent:
            return 0.0
        return min(waits) if waits else None

    def _url_of(self, channel_key: str | None) -> str | None:
        channel = self.channels.get(channel_key)
        return channel.callback_url if channel else None

    def body(self, row: Outbox, case: Case) -> bytes:
        event = EVENTS.get(row.payload.get("event"), row.payload.get("event"))
        data = {"service_request_id": case.number, "external_id": case.external_id, "event": event,
                "status": "closed" if event in ("resolved", "closed") else "open",
                "status_notes": WORDS.get(event, event),
                "updated_datetime": row.created_at.astimezone(self.tz).isoformat(timespec="seconds")}
        return json.dumps(data, ensure_ascii=False).encode()

    async def deliver(self, row: Outbox, case: Case) -> dict | None:
        """POST one callback: None when the channel took it, else the row's values for its retry."""
        channel = self.channels[case.channel]
        body = self.body(row, case)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "X-Open311-Signature": sign(channel.api_key, body)}
        try:
            async with self._http.post(channel.callback_url, data=body, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    return None
                why = f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            why = f"{exc!r}"
        attempts = row.attempts + 1
        delay = min(0.5 * 2 ** attempts, MAX_DELAY)
        log.warning("callback %s for %s: %s; retry in %.1fs", row.id, case.number, why, delay)
        return {"attempts": attempts, "log": [*row.log[-9:], why],
                "not_before": datetime.now(UTC) + timedelta(seconds=delay)}

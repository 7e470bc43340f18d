"""A local Telegram Bot API server for the tests and the demo (aiohttp).

The real python-telegram-bot Application talks to it over HTTP in the Bot API wire format. Tests
drive it in-process as Telegram users would (send_text, send_photo, tap, ...) and read what the
bot did (calls, messages, callback_answers), waiting on conditions rather than sleeping. Faults
can be injected: 429 with retry_after, 5xx, a server that is down, slow or "sent but timed out".

    emu = BotApiEmulator(); await emu.start()
    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.behaviour import TelegramBehaviour
from emulator.files import FileStore
from emulator.methods import BotApiMethods
from emulator.people import People, User
from emulator.webhook import WebhookPusher
from emulator.wire import ApiError, read_params

CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
BACKGROUND = {"getUpdates", "downloadFile"}  # untouched by fail_next(method=None): polling would eat the fault
RECHECK_S = 0.25  # wait_for also re-checks this often, for predicates on state the emulator doesn't see


@dataclass
class Call:
    """One request the bot made: method, decoded params, arrival time (monotonic) and the response body."""

    method: str
    params: dict
    ts: float
    response: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")


@dataclass
class Fault:
    method: str | None
    status: int
    retry_after: int | None
    count: int
    after_send: bool = False  # the side effect happens, then the error is returned

    def error(self) -> ApiError:
        if self.status == 429:
            return ApiError(429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after)
        return ApiError(self.status)


@dataclass
class Delay:
    method: str | None
    seconds: float
    then_timeout: bool  # True: handle at once, then hold the response (the client times out; the call took effect)
    count: int = 1


class BotApiEmulator(People, BotApiMethods, TelegramBehaviour):
    def __init__(self, token: str = "123456:TEST-TOKEN", host: str = "127.0.0.1", port: int = 0,
                 bot_username: str = "frontline_demo_bot"):
        self.token, self.host, self.port = token, host, port
        self.bot = User(int(token.split(":")[0]), "Frontline", username=bot_username, is_bot=True)
        self.users: dict[int, User] = {}
        self.chats: dict[int, dict] = {}
        self.members: dict[int, set[int]] = {}
        self.admins: dict[int, set[int]] = {}
        self.owners: dict[int, int] = {}  # group -> its creator
        self.blocked: set[int] = set()
        self.files = FileStore()
        self.commands: dict[tuple[str, str], list] = {}  # (scope JSON, language_code) -> commands
        self.webhook: dict | None = None
        self.pusher: WebhookPusher | None = None  # delivers updates while a webhook is set
        self.webhook_targets: list[str] = []  # a load balancer: deliveries round-robin to these URLs
        self.chaos = None  # emulator.chaos.Chaos: random faults on every call
        # what tests read
        self.calls: list[Call] = []
        self.callback_answers: dict[str, dict] = {}
        # messages: every one by (chat, message_id); the bot's per chat, in order; send/edit times per chat
        self._all: dict[tuple[int, int], dict] = {}
        self._bot_msgs: dict[int, list[dict]] = {}
        self._sent_at: dict[int, list[tuple[float, str]]] = {}
        self._next_mid: dict[int, int] = {}
        self._queries: dict[str, dict] = {}
        self._ids = itertools.count(1)
        # updates and long polling
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._inbox = asyncio.Condition()  # notified when an update arrives, a poll starts, or we stop
        self._poll_gen = 0
        # waiters: one condition for everything, one per chat for waiters that only care about that chat
        self._changed = asyncio.Condition()
        self._chat_changed: dict[int, asyncio.Condition] = {}
        # faults
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self._down = False
        self._closing = False
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._handlers = {name[4:].lower(): getattr(self, name) for name in dir(self) if name.startswith("api_")}
        self._init_behaviour()  # privacy mode, restricted members

    # ---- server ------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._closing = False
        self._closed = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]  # the real one when port=0; kept for a restart

    async def stop(self) -> None:
        self._closing = True
        self._closed.set()  # ends delays
        if self.pusher:
            await self.pusher.stop()
        async with self._inbox:
            self._inbox.notify_all()  # ends long polls
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _api(self, request: web.Request) -> web.Response:
        call = Call(request.match_info["method"], {}, time.monotonic())
        try:
            call.params = await read_params(request)
            call.response = {"ok": True, "result": await self._dispatch(request.match_info["token"], call)}
        except ApiError as exc:
            call.response = exc.body()
        if not (call.method == "getUpdates" and _client_gone(request)):  # a stale poll PTB abandoned on stop
            self.calls.append(call)
        await self._notify(*self._chats_of(call))
        status = 200 if call.ok else call.response["error_code"]
        return web.json_response(call.response, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False))

    async def _dispatch(self, token: str, call: Call) -> Any:
        if self._down:
            raise ApiError(502)
        if token != self.token:
            raise ApiError(401)
        handler = self._handlers.get(call.method.lower())  # Telegram's method names are case-insensitive
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        fault, delay = self._take(self._faults, call.method), self._take(self._delays, call.method)
        if fault is None and self.chaos is not None:  # emulator/chaos.py: random faults
            fault = self.chaos.draw(call.method)
        if fault and not fault.after_send:
            raise fault.error()
        if delay and not delay.then_timeout:
            await self._sleep(delay.seconds)
        result = handler(call.params)
        if inspect.isawaitable(result):
            result = await result
        if delay and delay.then_timeout:
            await self._sleep(delay.seconds)
        if fault:
            raise fault.error()
        return result

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>; recorded in `calls` as method "downloadFile"."""
        call = Call("downloadFile", {"file_path": request.match_info["path"]}, time.monotonic())
        stored = self.files.by_path.get(call.params["file_path"])
        try:
            if self._down:
                raise ApiError(502)
            if request.match_info["token"] != self.token:
                raise ApiError(401)
            if fault := self._take(self._faults, call.method):
                raise fault.error()
            if stored is None:
                raise ApiError(404)
            call.response = {"ok": True, "result": {"file_size": len(stored.data)}}
        except ApiError as exc:
            call.response = exc.body()
        self.calls.append(call)
        await self._notify()
        if not call.ok:
            return web.json_response(call.response, status=call.response["error_code"])
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _chats_of(self, call: Call) -> list[int]:
        chats = [call.params.get("chat_id")]
        if call.method == "answerCallbackQuery":
            chats.append(self._queries.get(str(call.params.get("callback_query_id")), {}).get("chat_id"))
        return [c for c in chats if isinstance(c, int)]

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            pass

    # ---- long polling ------------------------------------------------------------------------------
    async def _long_poll(self, offset: int, limit: int, timeout: float) -> list[dict]:
        if self._confirm(offset):
            await self._notify()  # waiters on "the bot has consumed the update" needn't wait for the poll's end
        self._poll_gen += 1
        gen = self._poll_gen
        async with self._inbox:
            self._inbox.notify_all()  # a poll still waiting is terminated with 409, as Telegram does
            if timeout > 0:
                try:
                    await asyncio.wait_for(self._inbox.wait_for(
                        lambda: self._updates or self._closing or self._poll_gen != gen), timeout)
                except TimeoutError:
                    pass
        if self._poll_gen != gen:
            raise ApiError(409, CONFLICT)
        return copy.deepcopy(self._updates[:max(1, min(limit, 100))])

    def _confirm(self, offset: int) -> bool:
        """getUpdates' offset: updates below it are confirmed and forgotten; -N keeps only the last N."""
        before = len(self._updates)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        return len(self._updates) != before

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot (through getUpdates' offset)."""
        return list(self._updates)

    async def _push(self, update: dict) -> dict:
        update = {"update_id": next(self._update_ids), **copy.deepcopy(update)}
        self._updates.append(update)
        async with self._inbox:
            self._inbox.notify_all()
        await self._notify()
        return update

    async def _set_webhook(self, params: dict | None) -> None:
        if self.pusher:
            await self.pusher.stop()
            self.pusher = None
        self.webhook = params
        if params:
            self.pusher = WebhookPusher(self, params["url"], params.get("secret_token"),
                                        int(params.get("max_connections") or 40))
            self.pusher.start()
        async with self._inbox:
            self._inbox.notify_all()  # a waiting long poll ends (409 on its next call)

    # ---- faults ------------------------------------------------------------------------------------
    def fail_next(self, method: str | None = None, status: int = 429, retry_after: int | None = 2,
                  count: int = 1) -> None:
        """The next `count` calls of `method` (None: any but getUpdates/downloads) fail without effect."""
        self._faults.append(Fault(method, status, retry_after if status == 429 else None, count))

    def fail_after_send(self, method: str, status: int = 502, count: int = 1) -> None:
        """The next calls of `method` take effect (the message is stored) but answer `status`."""
        self._faults.append(Fault(method, status, None, count, after_send=True))

    def delay_next(self, method: str | None, seconds: float, then_timeout: bool = False, count: int = 1) -> None:
        """Slow calls. then_timeout=False: wait, then handle. True: handle, then hold the response
        `seconds` (longer than the client's read timeout: it sees TimedOut, but the message was sent)."""
        self._delays.append(Delay(method, seconds, then_timeout, count))

    def set_down(self, down: bool = True) -> None:
        """While down, every request (files too) answers 502 Bad Gateway."""
        self._down = down

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._down = False

    @staticmethod
    def _take(queue: list, method: str):
        for item in queue:
            if item.method == method or (item.method is None and method not in BACKGROUND):
                item.count -= 1
                if item.count <= 0:
                    queue.remove(item)
                return item
        return None

    # ---- what tests read ---------------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[dict]:
        """The bot's current messages in a chat, in order (edited in place, deleted ones removed)."""
        return self._bot_msgs.setdefault(chat_id, [])

    def last(self, chat_id: int) -> dict | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """Any stored message, the users' too."""
        return self._all.get((chat_id, message_id))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def file_bytes(self, file_id: str) -> bytes:
        return self.files.get(file_id).data

    def max_rate(self, chat_id: int | None, window_s: float, edits: bool = True) -> int:
        """The most bot messages (sends, and edits unless edits=False) in any `window_s` window; chat None = all."""
        stamps = self._sent_at.get(chat_id, []) if chat_id is not None else \
            [s for chat in self._sent_at.values() for s in chat]
        times = sorted(t for t, kind in stamps if edits or kind == "send")
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    async def _notify(self, *chat_ids: int) -> None:
        conds = [self._changed, *(self._chat_changed[c] for c in chat_ids if c in self._chat_changed)]
        for cond in conds:
            async with cond:
                cond.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, chat_id: int | None = None):
        """Waits until predicate() is truthy and returns its value; re-checked on every bot call (with
        chat_id: on calls about that chat) and every 0.25 s. On timeout: AssertionError with recent calls."""
        cond = self._changed if chat_id is None else self._chat_changed.setdefault(chat_id, asyncio.Condition())
        deadline = time.monotonic() + timeout
        async with cond:
            while not (value := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting; {self.summary()}")
                try:
                    await asyncio.wait_for(cond.wait(), min(left, RECHECK_S))
                except TimeoutError:
                    pass
            return value

    async def wait_for_message(self, chat_id: int, contains: str | None = None, count: int | None = None,
                               timeout: float = 5.0, after: int = 0):
        """The first bot message in the chat (from index `after`) containing `contains`; with `count`:
        the list of such messages once there are at least `count`."""
        def check():
            found = [m for m in self.messages(chat_id)[after:]
                     if contains is None or contains in (m.get("text") or m.get("caption") or "")]
            if count is not None:
                return found if len(found) >= count else None
            return found[0] if found else None
        return await self.wait_for(check, timeout, chat_id)

    def summary(self, n: int = 10) -> str:
        recent = [c for c in self.calls if not (c.method == "getUpdates" and c.ok and not c.result)][-n:]
        lines = [f"  {c.method} {json.dumps(c.params, ensure_ascii=False, default=str)[:160]} -> "
                 f"{'ok' if c.ok else c.response.get('description')}" for c in recent]
        return "recent bot calls:\n" + ("\n".join(lines) or "  (none)")


def _client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()

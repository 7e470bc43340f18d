"""A local Telegram Bot API server for the tests and the demo (aiohttp).

It speaks the Bot API wire format well enough for python-telegram-bot: long-polled getUpdates,
sending and editing messages, photos, albums, venues, files, callback answers, chat members.
Tests drive it in-process as users would (send_photo, send_location, tap) and read what the bot
sent (messages, callback_answers). Faults can be injected: 429 with retry_after, 5xx, a down server.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.html import HtmlError, parse_html

INT_FIELDS = {"chat_id", "message_id", "user_id", "offset", "limit", "timeout", "reply_to_message_id"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    is_bot: bool = False

    def to_dict(self) -> dict:
        d = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


@dataclass
class Call:
    method: str
    params: dict
    ts: float
    response: dict = field(default_factory=dict)


@dataclass
class Fault:
    method: str | None
    status: int
    retry_after: int | None
    count: int
    after_send: bool = False


class BotApiEmulator:
    def __init__(self, token: str = "123456:TEST-TOKEN", host: str = "127.0.0.1", port: int = 0,
                 bot_username: str = "frontline_demo_bot"):
        self.token, self.host, self.port = token, host, port
        self.bot = User(int(token.split(":")[0]), "Frontline", username=bot_username, is_bot=True)
        self.users: dict[int, User] = {}
        self.chats: dict[int, dict] = {}
        self.members: dict[int, set[int]] = {}
        self.calls: list[Call] = []
        self.callback_answers: dict[str, dict] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self._all: dict[tuple[int, int], dict] = {}  # every message, the users' too
        self._bot_msgs: dict[int, list[dict]] = {}
        self._next_mid: dict[int, int] = {}
        self._sent_at: dict[int, list[float]] = {}
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._faults: list[Fault] = []
        self._query_chats: dict[str, int] = {}
        self._down = False
        self._changed = asyncio.Event()
        self._chat_changed: dict[int, asyncio.Event] = {}  # waiters on one chat wake only for it
        self._runner: web.AppRunner | None = None

    # ---- server --------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._changed.set()
        if self._runner:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def _params(self, request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename is not None:
                    params[part.name] = bytes(await part.read())
                else:
                    params[part.name] = await part.text()
        elif request.can_read_body:
            params.update(await request.post())
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
            if key in INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
                params[key] = int(value)
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, time.monotonic())
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            fault = self._take_fault(method)
            if fault and not fault.after_send:
                raise ApiError(fault.status, _reason(fault.status), fault.retry_after)
            handler = getattr(self, "_m_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            if fault:  # the side effect happened, but the client is told it failed
                raise ApiError(fault.status, _reason(fault.status))
            body = {"ok": True, "result": result}
        except ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
        if method != "getUpdates" or body.get("result") or not body["ok"]:
            call.response = body
            self.calls.append(call)
            chat = params.get("chat_id")
            self._notify(int(chat) if isinstance(chat, int | str) and str(chat).lstrip("-").isdigit() else None)
            if method == "answerCallbackQuery":
                self._notify(self._query_chats.pop(str(params.get("callback_query_id")), None))
        status = 200 if body["ok"] else body["error_code"]
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if self._down or file_id not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[file_id][0])

    def _take_fault(self, method: str) -> Fault | None:
        if self._down:
            return Fault(None, 502, None, 1)
        for fault in self._faults:
            if fault.method in (None, method) and method != "getUpdates":
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---- faults ------------------------------------------------------------------------------------
    def fail_next(self, method: str | None = None, status: int = 429, retry_after: int | None = 2,
                  count: int = 1) -> None:
        self._faults.append(Fault(method, status, retry_after if status == 429 else None, count))

    def fail_after_send(self, method: str, status: int = 502, count: int = 1) -> None:
        self._faults.append(Fault(method, status, None, count, after_send=True))

    def set_down(self, down: bool) -> None:
        self._down = down

    def clear_faults(self) -> None:
        self._faults.clear()
        self._down = False

    # ---- chats and people ------------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "User", language_code: str | None = "zh-hans",
             username: str | None = None) -> User:
        if user_id not in self.users:
            self.users[user_id] = User(user_id, first_name, language_code, username)
            self.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        return self.users[user_id]

    def group(self, chat_id: int, title: str, members: list[User] = ()) -> dict:
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}
        self.members[chat_id] = {u.id for u in members}
        return self.chats[chat_id]

    def add_member(self, chat_id: int, user: User) -> None:
        self.members.setdefault(chat_id, set()).add(user.id)

    def _chat(self, chat_id) -> dict:
        chat_id = int(chat_id)
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    # ---- what users do ------------------------------------------------------------------------
    def _user_message(self, user: User, chat_id: int, content: dict, reply_to: int | None = None) -> dict:
        chat = self._chat(chat_id)
        msg = {"message_id": self._mid(chat_id), "date": int(time.time()), "chat": chat, "from": user.to_dict(),
               **content}
        if reply_to is not None:
            msg["reply_to_message"] = self._all[(chat_id, reply_to)]
        self._all[(chat_id, msg["message_id"])] = msg
        return msg

    async def _push(self, update: dict) -> None:
        update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._notify()

    async def send_raw_update(self, update: dict) -> None:
        await self._push(dict(update))

    async def _send(self, user, chat_id, content, reply_to=None) -> dict:
        msg = self._user_message(user, chat_id, content, reply_to)
        await self._push({"message": msg})
        return msg

    async def send_text(self, user: User, chat_id: int, text: str, reply_to_message_id: int | None = None) -> dict:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._send(user, chat_id, content, reply_to_message_id)

    async def send_photo(self, user: User, chat_id: int, data: bytes, caption: str | None = None,
                         media_group_id: str | None = None) -> dict:
        content: dict[str, Any] = {"photo": self._photo_sizes(data)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return await self._send(user, chat_id, content)

    async def send_photo_reply(self, user: User, chat_id: int, data: bytes, caption: str | None,
                               reply_to_message_id: int) -> dict:
        content: dict[str, Any] = {"photo": self._photo_sizes(data)}
        if caption:
            content["caption"] = caption
        return await self._send(user, chat_id, content, reply_to_message_id)

    async def send_document(self, user: User, chat_id: int, data: bytes, file_name: str, mime_type: str) -> dict:
        file_id, unique = self._store_file(data)
        doc = {"file_id": file_id, "file_unique_id": unique, "file_name": file_name, "mime_type": mime_type,
               "file_size": len(data)}
        return await self._send(user, chat_id, {"document": doc})

    async def send_location(self, user: User, chat_id: int, lat: float, lon: float) -> dict:
        return await self._send(user, chat_id, {"location": {"latitude": lat, "longitude": lon}})

    async def send_venue(self, user: User, chat_id: int, lat: float, lon: float, title: str, address: str) -> dict:
        loc = {"latitude": lat, "longitude": lon}
        return await self._send(user, chat_id, {"location": loc, "venue": {"location": loc, "title": title,
                                                                           "address": address}})

    async def send_sticker(self, user: User, chat_id: int) -> dict:
        file_id, unique = self._store_file(b"RIFF....WEBP")
        sticker = {"file_id": file_id, "file_unique_id": unique, "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        return await self._send(user, chat_id, {"sticker": sticker})

    async def send_voice(self, user: User, chat_id: int) -> dict:
        file_id, unique = self._store_file(b"OggS")
        return await self._send(user, chat_id, {"voice": {"file_id": file_id, "file_unique_id": unique,
                                                          "duration": 2}})

    async def tap(self, user: User, chat_id: int, message_id: int, data: str) -> str:
        query_id = str(next(self._ids))
        self._query_chats[query_id] = chat_id
        msg = self._all.get((chat_id, message_id)) or {"message_id": message_id, "date": 0, "chat": self._chat(chat_id)}
        await self._push({"callback_query": {"id": query_id, "from": user.to_dict(), "message": msg,
                                             "chat_instance": str(chat_id), "data": data}})
        return query_id

    # ---- what tests read -----------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[dict]:
        return self._bot_msgs.get(chat_id, [])

    def last(self, chat_id: int) -> dict | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id][0]

    def max_rate(self, chat_id: int | None, window_s: float) -> int:
        """The most bot messages seen in any window of `window_s` seconds (one chat, or all)."""
        times = sorted(self._sent_at.get(chat_id, []) if chat_id is not None else
                       [t for ts in self._sent_at.values() for t in ts])
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def _notify(self, chat_id: int | None = None) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        event = self._chat_changed.pop(chat_id, None) if chat_id is not None else None
        if event:
            event.set()

    def _event(self, chat_id: int | None) -> asyncio.Event:
        if chat_id is None:
            return self._changed
        return self._chat_changed.setdefault(chat_id, asyncio.Event())

    async def wait_for(self, predicate, timeout: float = 5.0, chat_id: int | None = None):
        """Wait until predicate() is truthy; with chat_id, re-check only when that chat changes."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                recent = "\n".join(f"  {c.method} {json.dumps(c.params, ensure_ascii=False, default=str)[:200]}"
                                   for c in self.calls[-8:])
                raise AssertionError(f"timed out after {timeout}s waiting; recent bot calls:\n{recent}")
            try:
                await asyncio.wait_for(self._event(chat_id).wait(), min(left, 0.25))
            except TimeoutError:
                pass

    async def wait_for_message(self, chat_id: int, contains: str | None = None, count: int | None = None,
                               timeout: float = 5.0):
        def check():
            msgs = self.messages(chat_id)
            if count is not None:
                return msgs if len(msgs) >= count else None
            return next((m for m in msgs if contains is None or contains in (m.get("text") or m.get("caption")
                                                                               or "")), None)
        return await self.wait_for(check, timeout, chat_id)

    # ---- storage helpers --------------------------------------------------------------------------
    def _mid(self, chat_id: int) -> int:
        self._next_mid[chat_id] = self._next_mid.get(chat_id, 0) + 1
        return self._next_mid[chat_id]

    def _store_file(self, data: bytes) -> tuple[str, str]:
        n = next(self._ids)
        file_id, unique = f"FILE{n:06d}-{len(data)}", f"U{n:06d}"
        self.files[file_id] = (data, unique)
        return file_id, unique

    def _photo_sizes(self, data: bytes) -> list[dict]:
        file_id, unique = self._store_file(data)
        width, height = _image_size(data)
        thumb_id, thumb_unique = self._store_file(data[:64])
        return [{"file_id": thumb_id, "file_unique_id": thumb_unique, "width": min(width, 90),
                 "height": min(height, 90), "file_size": 64},
                {"file_id": file_id, "file_unique_id": unique, "width": width, "height": height,
                 "file_size": len(data)}]

    def _input_photo(self, value, params: dict) -> list[dict]:
        if isinstance(value, bytes):
            return self._photo_sizes(value)
        if isinstance(value, str) and value.startswith("attach://"):
            return self._photo_sizes(params[value[len("attach://"):]])
        if isinstance(value, str) and value in self.files:
            data, unique = self.files[value]
            width, height = _image_size(data)
            return [{"file_id": value, "file_unique_id": unique, "width": width, "height": height,
                     "file_size": len(data)}]
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _bot_message(self, params: dict, content: dict) -> dict:
        chat_id = int(params["chat_id"])
        chat = self._chat(chat_id)
        markup = params.get("reply_markup")
        _check_markup(markup)
        msg = {"message_id": self._mid(chat_id), "date": int(time.time()), "chat": chat,
               "from": self.bot.to_dict(), **content}
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        if params.get("reply_to_message_id"):
            msg["reply_to_message"] = self._all.get((chat_id, int(params["reply_to_message_id"])))
        msg["edit_history"] = []
        self._all[(chat_id, msg["message_id"])] = msg
        self._bot_msgs.setdefault(chat_id, []).append(msg)
        self._sent_at.setdefault(chat_id, []).append(time.monotonic())
        return msg

    def _text(self, params: dict, key: str, limit: int) -> dict:
        raw = str(params.get(key) or "")
        if key == "text" and not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text, entities = raw, []
        if params.get("parse_mode") == "HTML":
            try:
                text, entities = parse_html(raw)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {'message' if key == 'text' else 'caption'} is too long")
        out: dict[str, Any] = {key: text} if text else {}
        if entities:
            out["entities" if key == "text" else "caption_entities"] = entities
        return out

    def _stored(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self._all or self._all[key].get("from", {}).get("id") != self.bot.id:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self._all[key]

    def _edit(self, params: dict, changes: dict) -> dict:
        msg = self._stored(params)
        markup = params.get("reply_markup")
        _check_markup(markup)
        new_markup = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if all(msg.get(k) == v for k, v in changes.items()) and msg.get("reply_markup") == new_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup")
        msg["edit_history"].append({k: msg.get(k) for k in (*changes, "reply_markup")})
        msg.update(changes)
        if new_markup:
            msg["reply_markup"] = new_markup
        else:
            msg.pop("reply_markup", None)
        msg["edit_date"] = int(time.time())
        self._sent_at.setdefault(msg["chat"]["id"], []).append(time.monotonic())
        return {k: v for k, v in msg.items() if k != "edit_history"}

    # ---- Bot API methods -------------------------------------------------------------------------
    def _m_getMe(self, p):
        return {**self.bot.to_dict(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getUpdates(self, p):
        offset, limit, timeout = int(p.get("offset") or 0), int(p.get("limit") or 100), float(p.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return [_public(u) for u in self._updates[:limit]]

    def _m_deleteWebhook(self, p):
        return True

    def _m_setWebhook(self, p):
        return True

    def _m_setMyCommands(self, p):
        self.commands = p.get("commands")
        return True

    def _m_getMyCommands(self, p):
        return getattr(self, "commands", [])

    def _m_logOut(self, p):
        return True

    def _m_close(self, p):
        return True

    def _m_sendChatAction(self, p):
        self._chat(p["chat_id"])
        return True

    def _m_sendMessage(self, p):
        return _public(self._bot_message(p, self._text(p, "text", 4096)))

    def _m_sendPhoto(self, p):
        self._chat(p["chat_id"])
        content = {"photo": self._input_photo(p.get("photo"), p), **self._text(p, "caption", 1024)}
        return _public(self._bot_message(p, content))

    def _m_sendDocument(self, p):
        data = p.get("document")
        file_id, unique = self._store_file(data if isinstance(data, bytes) else b"")
        return _public(self._bot_message(p, {"document": {"file_id": file_id, "file_unique_id": unique}}))

    def _m_sendMediaGroup(self, p):
        self._chat(p["chat_id"])
        media = p.get("media") or []
        if not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album")
        group = f"MG{next(self._ids)}"
        photos = [self._input_photo(item["media"], p) for item in media]  # all valid before any is sent
        out = []
        for item, sizes in zip(media, photos, strict=True):
            content = {"photo": sizes, "media_group_id": group, **self._text(item, "caption", 1024)}
            out.append(_public(self._bot_message({"chat_id": p["chat_id"]}, content)))
        return out

    def _m_sendLocation(self, p):
        loc = {"latitude": float(p["latitude"]), "longitude": float(p["longitude"])}
        return _public(self._bot_message(p, {"location": loc}))

    def _m_sendVenue(self, p):
        loc = {"latitude": float(p["latitude"]), "longitude": float(p["longitude"])}
        venue = {"location": loc, "title": p["title"], "address": p["address"]}
        return _public(self._bot_message(p, {"location": loc, "venue": venue}))

    def _m_editMessageText(self, p):
        return self._edit(p, self._text(p, "text", 4096))

    def _m_editMessageCaption(self, p):
        return self._edit(p, self._text(p, "caption", 1024) or {"caption": None})

    def _m_editMessageReplyMarkup(self, p):
        return self._edit(p, {})

    def _m_deleteMessage(self, p):
        msg = self._stored(p)
        self._bot_msgs[msg["chat"]["id"]].remove(msg)
        return True

    def _m_answerCallbackQuery(self, p):
        self.callback_answers[str(p["callback_query_id"])] = p
        return True

    def _m_getFile(self, p):
        file_id = p.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data, unique = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": unique, "file_size": len(data), "file_path": f"f/{file_id}"}

    def _m_getChat(self, p):
        return self._chat(p["chat_id"])

    def _m_getChatMember(self, p):
        chat_id, user_id = int(p["chat_id"]), int(p["user_id"])
        self._chat(chat_id)
        user = self.users.get(user_id) or User(user_id, "Unknown")
        status = "member" if user_id in self.members.get(chat_id, set()) or chat_id == user_id else "left"
        return {"status": status, "user": user.to_dict()}

    def _m_getChatAdministrators(self, p):
        self._chat(p["chat_id"])
        return []


def _public(msg: dict) -> dict:
    """A message as the Bot API returns it (without the emulator's own bookkeeping)."""
    return {k: v for k, v in msg.items() if k != "edit_history"}


def _check_markup(markup) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:
        return 100, 100


def _reason(status: int) -> str:
    return {429: "Too Many Requests: retry later", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")

"""A district in a box: the emulator, the real bot on it, and people to drive it.

Used by the tests and by the `make run` demo: citizens and staff act through the emulator
exactly as Telegram clients would, and the bot is the real PTB Application.
"""

from __future__ import annotations

import copy
from pathlib import Path

from bot.app import build_application, start_bot, stop_bot
from bot.config import Config
from bot.delivery import RateLimiter
from cases.clock import FakeClock
from emulator import BotApiEmulator


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class District:
    def __init__(self, cfg: Config, workdir: Path, clock=None, limiter: RateLimiter | None = None):
        self.cfg = copy.deepcopy(cfg)
        self.workdir = workdir
        self.clock = clock or FakeClock()
        self.limiter = limiter
        self.emu = BotApiEmulator()
        self.app = None
        self.staff: dict[int, list] = {}  # group chat id -> members

    async def __aenter__(self) -> District:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.emu.start()
        self.cfg.telegram.base_url = self.emu.base_url
        self.cfg.telegram.base_file_url = self.emu.base_file_url
        if "sqlite" in self.cfg.database.url and str(self.workdir) not in self.cfg.database.url:
            self.cfg.database.url = f"sqlite+aiosqlite:///{self.workdir / 'frontline.sqlite3'}"
        self.cfg.media.dir = self.workdir / "media"
        self.cfg.api.port = 0  # the Open311 API, when listening, on a free port (tests run side by side)
        if self.cfg.telegram.mode == "webhook" and not self.cfg.webhook.url:
            # no TLS proxy here: the webhook's public URL is the bot's own port on loopback
            self.cfg.webhook.port = self.cfg.webhook.port or free_port()
            self.cfg.webhook.url = f"http://127.0.0.1:{self.cfg.webhook.port}/telegram"
        self._make_groups()
        await self.start_bot()

    async def start_bot(self) -> None:
        self.app = build_application(self.cfg, self.emu.token, clock=self.clock, limiter=self.limiter)
        await start_bot(self.app, poll_timeout=1)

    async def stop_bot(self) -> None:
        if self.app:
            await stop_bot(self.app)
            self.app = None

    async def restart_bot(self) -> None:
        await self.stop_bot()
        await self.start_bot()

    async def stop(self) -> None:
        await self.stop_bot()
        await self.emu.stop()

    def _make_groups(self) -> None:
        units = [(s.chat_id, s.name, f"{s.name_en or s.name} handler") for s in self.cfg.streets] + \
                [(d.chat_id, d.zh, f"{d.en} staff") for d in self.cfg.departments]
        uid = 5000
        for chat_id, title, person in units:  # a street's or department's group holds one member of staff
            if chat_id:
                uid += 1
                staff = self.emu.user(uid, person, language_code="zh-hans")
                self.emu.group(chat_id, title, members=[staff])
                self.staff[chat_id] = [staff]
        for g in self.cfg.grids:  # a grid group holds its configured grid workers
            if g.chat_id:
                workers = [self.emu.user(w, f"Grid worker {w}", language_code="zh-hans") for w in g.workers]
                self.emu.group(g.chat_id, g.name, members=workers)
                self.staff[g.chat_id] = workers
        if self.cfg.command_center.chat_id:
            officer = self.emu.user(4999, "Command officer", language_code="zh-hans")
            self.emu.group(self.cfg.command_center.chat_id, "指挥中心", members=[officer])
            self.staff[self.cfg.command_center.chat_id] = [officer]

    # ---- people ----------------------------------------------------------------------------------
    def citizen(self, user_id: int = 1001, lang: str = "zh-hans", name: str = "Li Lei"):
        return self.emu.user(user_id, name, language_code=lang, username=f"citizen{user_id}")

    def street_chat(self, name: str) -> int:
        return next(s.chat_id for s in self.cfg.streets if s.name == name)

    def handler_of(self, street: str):
        return self.staff[self.street_chat(street)][0]

    def grid_chat(self, name: str) -> int:
        return next(g.chat_id for g in self.cfg.grids if g.name == name)

    def dept_chat(self, key: str) -> int:
        return next(d.chat_id for d in self.cfg.departments if d.key == key)

    def staff_of(self, key: str):
        return self.staff[self.dept_chat(key)][0]

    @property
    def core(self):
        return self.app.bot_data["core"]

    async def outbox_settled(self, timeout: float = 10.0) -> list:
        """Wait until no outbox row is pending; returns all rows."""
        import asyncio
        import time

        from sqlalchemy import select

        from storage.models import Outbox
        deadline = time.monotonic() + timeout
        while True:
            async with self.core.sessions() as s:
                rows = list(await s.scalars(select(Outbox).order_by(Outbox.id)))
            if all(r.status != "pending" for r in rows) or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.02)

    # ---- a citizen's moves -------------------------------------------------------------------------
    async def text(self, user, text: str) -> dict:
        return await self.emu.send_text(user, user.id, text)

    async def tap_last(self, user, chat_id: int, label: str) -> str:
        """Tap the button labelled `label` (substring) on the newest bot message that has it."""
        for msg in reversed(self.emu.messages(chat_id)):
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return await self.emu.tap(user, chat_id, msg["message_id"], button["callback_data"])
        raise AssertionError(f"no button {label!r} in chat {chat_id}")

    async def report(self, user, photo: bytes, lat: float, lon: float, category: str = "道路破损",
                     note: str | None = None, timeout: float = 5.0) -> dict:
        """Photo, place, category, note, confirm: returns the receipt message."""
        chat = user.id
        n = len(self.emu.messages(chat))
        await self.emu.send_photo(user, chat, photo)
        await self.emu.wait_for(lambda: len(self.emu.messages(chat)) > n, timeout)
        await self.emu.send_location(user, chat, lat, lon)
        await self.wait_button(chat, category, timeout)
        await self.tap_last(user, chat, category)
        await self.wait_button(chat, "跳过" if "zh" in (user.language_code or "zh") else "Skip", timeout)
        if note is None:
            await self.tap_last(user, chat, "跳过" if "zh" in (user.language_code or "zh") else "Skip")
        else:
            await self.text(user, note)
        await self.wait_button(chat, "✅", timeout)
        before = len(self.emu.messages(chat))
        await self.tap_last(user, chat, "✅")
        return await self.emu.wait_for(lambda: next(
            (m for m in self.emu.messages(chat)[before:] if "GL-" in (m.get("text") or "")), None), timeout)

    async def wait_button(self, chat_id: int, label: str, timeout: float = 5.0) -> dict:
        def find():
            for msg in reversed(self.emu.messages(chat_id)):
                for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                    if any(label in b["text"] for b in row):
                        return msg
            return None
        return await self.emu.wait_for(find, timeout, chat_id)

    async def wait_text(self, chat_id: int, contains: str, after: int = 0, timeout: float = 5.0) -> dict:
        def find():
            for msg in self.emu.messages(chat_id)[after:]:
                if contains in (msg.get("text") or msg.get("caption") or ""):
                    return msg
            return None
        return await self.emu.wait_for(find, timeout, chat_id)

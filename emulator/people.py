"""What Telegram users do, driven in-process by the tests (a mixin of BotApiEmulator).

Users and groups are created here; their messages, taps and odd updates are queued as updates for
the bot's getUpdates. Each message gets the chat's next message_id, shared with the bot's messages.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

from emulator.wire import ApiError, public


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    is_bot: bool = False

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


class People:
    """Users, groups, and what users do; the state lives on BotApiEmulator."""

    # ---- people and chats ----------------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "User", language_code: str | None = "zh-hans",
             username: str | None = None) -> User:
        """Creates (or returns) a user; their private chat with the bot has id == user_id."""
        if user_id not in self.users:
            self.users[user_id] = User(user_id, first_name, language_code, username)
            chat = {"id": user_id, "type": "private", "first_name": first_name}
            self.chats[user_id] = chat | ({"username": username} if username else {})
        return self.users[user_id]

    def group(self, chat_id: int, title: str, members: list[User] | tuple = (),
              admins: list[User] | tuple = ()) -> dict:
        """A supergroup with the bot in it (as an administrator, so it may post and edit)."""
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}
        self.members[chat_id] = {u.id for u in (*members, *admins)}
        self.admins[chat_id] = {u.id for u in admins}
        return self.chats[chat_id]

    def make_owner(self, chat_id: int, user: User) -> None:
        """The group's creator (status "creator" in getChatMember)."""
        self.owners[chat_id] = user.id
        self.members.setdefault(chat_id, set()).add(user.id)

    def add_member(self, chat_id: int, user: User) -> None:
        self.members.setdefault(chat_id, set()).add(user.id)

    def remove_member(self, chat_id: int, user: User) -> None:
        self.members.get(chat_id, set()).discard(user.id)
        self.admins.get(chat_id, set()).discard(user.id)

    def block(self, user: User, blocked: bool = True) -> None:
        """The user blocks the bot: sends to them answer 403 Forbidden."""
        if blocked:
            self.blocked.add(user.id)
        else:
            self.blocked.discard(user.id)

    def _chat(self, chat_id: Any) -> dict:
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _new_message(self, chat: dict, sender: dict, content: dict, reply_to: int | None = None) -> dict:
        chat_id = chat["id"]
        self._next_mid[chat_id] = self._next_mid.get(chat_id, 0) + 1
        msg = {"message_id": self._next_mid[chat_id], "from": sender, "chat": dict(chat), "date": int(time.time()),
               **content}
        if reply_to is not None:
            replied = public(self._all[(chat_id, reply_to)])
            replied.pop("reply_to_message", None)  # Telegram doesn't nest replies further
            msg["reply_to_message"] = copy.deepcopy(replied)
        self._all[(chat_id, msg["message_id"])] = msg
        return msg

    # ---- what users do -----------------------------------------------------------------------------
    async def _user_sends(self, user: User, chat_id: int, content: dict, reply_to: int | None = None) -> dict:
        chat = self._chat(chat_id)
        if chat["type"] == "private" and chat_id != user.id:
            raise ValueError(f"user {user.id} cannot write in the private chat of {chat_id}")
        if reply_to is not None and (chat_id, reply_to) not in self._all:
            raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
        msg = self._new_message(chat, user.to_dict(), content, reply_to)
        if self.bot_sees(chat, msg):  # group privacy mode (emulator/behaviour.py)
            await self._push({"message": msg})
        return msg

    async def send_text(self, user: User, chat_id: int, text: str, reply_to_message_id: int | None = None) -> dict:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._user_sends(user, chat_id, content, reply_to_message_id)

    async def reply_to(self, user: User, chat_id: int, message_id: int, text: str) -> dict:
        return await self.send_text(user, chat_id, text, reply_to_message_id=message_id)

    async def send_photo(self, user: User, chat_id: int, data: bytes, caption: str | None = None,
                         media_group_id: str | None = None, reply_to_message_id: int | None = None) -> dict:
        content: dict[str, Any] = {"photo": self.files.photo(data)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return await self._user_sends(user, chat_id, content, reply_to_message_id)

    async def send_photo_reply(self, user: User, chat_id: int, data: bytes, caption: str | None,
                               reply_to_message_id: int) -> dict:
        return await self.send_photo(user, chat_id, data, caption, reply_to_message_id=reply_to_message_id)

    async def send_document(self, user: User, chat_id: int, data: bytes, file_name: str, mime_type: str) -> dict:
        stored = self.files.add(data, "document", file_name, mime_type)
        return await self._user_sends(user, chat_id, {"document": stored.document()})

    async def send_location(self, user: User, chat_id: int, lat: float, lon: float,
                            reply_to_message_id: int | None = None, live_period: int | None = None,
                            forwarded_from: User | None = None) -> dict:
        """A location; `live_period` makes it a live location, `forwarded_from` a forwarded message."""
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if live_period:
            location["live_period"] = live_period
        content: dict[str, Any] = {"location": location}
        if forwarded_from:
            content["forward_origin"] = {"type": "user", "sender_user": forwarded_from.to_dict(),
                                         "date": int(time.time()) - 60}
        return await self._user_sends(user, chat_id, content, reply_to_message_id)

    async def send_venue(self, user: User, chat_id: int, lat: float, lon: float, title: str, address: str) -> dict:
        loc = {"latitude": lat, "longitude": lon}
        venue = {"location": loc, "title": title, "address": address}
        return await self._user_sends(user, chat_id, {"location": loc, "venue": venue})

    async def send_sticker(self, user: User, chat_id: int) -> dict:
        s = self.files.add(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker")
        sticker = {"file_id": s.file_id, "file_unique_id": s.file_unique_id, "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return await self._user_sends(user, chat_id, {"sticker": sticker})

    async def send_voice(self, user: User, chat_id: int, duration: int = 2) -> dict:
        v = self.files.add(b"OggS\x00\x02", "voice")
        voice = {"file_id": v.file_id, "file_unique_id": v.file_unique_id, "duration": duration,
                 "mime_type": "audio/ogg", "file_size": len(v.data)}
        return await self._user_sends(user, chat_id, {"voice": voice})

    async def send_raw_update(self, update: dict) -> dict:
        """Pushes any update as given (an update_id is assigned); returns it."""
        update = {k: v for k, v in update.items() if k != "update_id"}
        msg = update.get("message")
        if isinstance(msg, dict) and "chat" in msg and "message_id" in msg:
            self._all.setdefault((msg["chat"]["id"], msg["message_id"]), copy.deepcopy(msg))
        return await self._push(update)

    async def tap(self, user: User, chat_id: int, message_id: int, data: str) -> str:
        """The user taps an inline button: a callback_query carrying the message as currently stored."""
        chat = self._chat(chat_id)
        stored = self._all.get((chat_id, message_id))
        message = public(stored) if stored else {"chat": chat, "message_id": message_id, "date": 0}  # inaccessible
        qid = str(next(self._ids))
        self._queries[qid] = {"chat_id": chat_id, "message_id": message_id, "user_id": user.id, "answered": False}
        await self._push({"callback_query": {"id": qid, "from": user.to_dict(), "message": message,
                                             "chat_instance": f"ci{chat_id}", "data": data}})
        return qid

"""What Telegram does that a bot must cope with (a mixin of BotApiEmulator): group privacy mode,
forwarded messages, live and approximate locations, restricted members.

Privacy mode is on for every bot unless turned off with BotFather's /setprivacy, and it does not
apply where the bot is an administrator. In a group where it applies, the bot receives only
commands, replies to its own messages and messages that mention it (@username); everything else
said in the group never reaches it. `group()` makes the bot an administrator, as before; tests of
privacy mode call `set_bot_admin(chat, False)`.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.people import User
    from emulator.server import BotApiEmulator

CONTENT = ("text", "entities", "caption", "caption_entities", "photo", "document", "location", "venue",
           "sticker", "voice")
RESTRICTED_RIGHTS = ("can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
                     "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
                     "can_send_other_messages", "can_add_web_page_previews", "can_change_info", "can_invite_users",
                     "can_pin_messages", "can_manage_topics", "can_edit_tag", "can_react_to_messages")
LIVE_PERIOD = range(60, 86401)  # seconds; 0x7FFFFFFF means "until stopped"
FOREVER = 0x7FFFFFFF


class TelegramBehaviour:
    def _init_behaviour(self: BotApiEmulator) -> None:
        self.privacy_mode = True  # BotFather's default
        self.bot_not_admin: set[int] = set()  # groups where the bot is a plain member
        self.restricted: dict[tuple[int, int], dict] = {}  # (chat, user) -> is_member and rights

    # ---- group privacy mode ---------------------------------------------------------------------------
    def set_bot_admin(self: BotApiEmulator, chat_id: int, admin: bool = True) -> None:
        (self.bot_not_admin.discard if admin else self.bot_not_admin.add)(chat_id)

    def bot_is_admin(self: BotApiEmulator, chat_id: int) -> bool:
        return chat_id not in self.bot_not_admin

    def bot_sees(self: BotApiEmulator, chat: dict, msg: dict) -> bool:
        """Whether a user's message in `chat` reaches the bot (privacy mode)."""
        if chat["type"] == "private" or not self.privacy_mode or self.bot_is_admin(chat["id"]):
            return True
        text = msg.get("text") or msg.get("caption") or ""
        if text.startswith("/"):  # a command; "/cmd@other_bot" is another bot's
            addressee = text.split()[0].partition("@")[2]
            return not addressee or addressee.lower() == (self.bot.username or "").lower()
        if (msg.get("reply_to_message") or {}).get("from", {}).get("id") == self.bot.id:
            return True
        return bool(self.bot.username) and f"@{self.bot.username}".lower() in text.lower()

    # ---- restricted members ---------------------------------------------------------------------------
    def restrict(self: BotApiEmulator, chat_id: int, user: User, is_member: bool = True, **rights: bool) -> None:
        """The user is restricted in the group (can_* rights default to False). is_member=False: a
        restricted user who has left the group (getChatMember still says "restricted")."""
        unknown = set(rights) - set(RESTRICTED_RIGHTS)
        if unknown:
            raise ValueError(f"unknown rights {sorted(unknown)}")
        self.restricted[(chat_id, user.id)] = {"is_member": is_member,
                                               **{r: rights.get(r, False) for r in RESTRICTED_RIGHTS}}
        if is_member:
            self.members.setdefault(chat_id, set()).add(user.id)
        else:
            self.members.get(chat_id, set()).discard(user.id)

    def unrestrict(self: BotApiEmulator, chat_id: int, user: User) -> None:
        self.restricted.pop((chat_id, user.id), None)

    def restricted_member(self: BotApiEmulator, chat: dict, user_id: int, user_dict: dict) -> dict | None:
        rights = self.restricted.get((chat["id"], user_id))
        if rights is None or chat["type"] == "private":
            return None
        return {"status": "restricted", "user": user_dict, "until_date": 0, **rights}

    # ---- forwarded messages ---------------------------------------------------------------------------
    async def forward(self: BotApiEmulator, user: User, chat_id: int, original: dict,
                      hidden_name: str | None = None) -> dict:
        """The user forwards `original` (any stored message) into `chat_id`. Its `forward_origin` names
        the original sender, or only a name when that sender hides their account (hidden_name)."""
        when = original.get("date", int(time.time()))
        if hidden_name:
            origin: dict[str, Any] = {"type": "hidden_user", "date": when, "sender_user_name": hidden_name}
        elif original.get("chat", {}).get("type") == "channel":
            origin = {"type": "channel", "date": when, "chat": original["chat"],
                      "message_id": original["message_id"]}
        else:
            origin = {"type": "user", "date": when, "sender_user": original["from"]}
        content = {k: copy.deepcopy(v) for k, v in original.items() if k in CONTENT}
        if "location" in content:  # a forwarded live location is a still picture of it
            content["location"].pop("live_period", None)
        return await self._user_sends(user, chat_id, {**content, "forward_origin": origin})

    # ---- live and approximate locations ----------------------------------------------------------------
    async def share_location(self: BotApiEmulator, user: User, chat_id: int, lat: float, lon: float,
                             live_period: int | None = None, horizontal_accuracy: float | None = None,
                             heading: int | None = None, reply_to_message_id: int | None = None) -> dict:
        """A location as a phone sends it: `horizontal_accuracy` (metres, 0-1500) when the phone knows
        it; `live_period` (seconds) for a live location, which then moves with `move_live_location`."""
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if horizontal_accuracy is not None:
            if not 0 <= horizontal_accuracy <= 1500:
                raise ValueError("horizontal_accuracy is 0-1500 m")
            location["horizontal_accuracy"] = float(horizontal_accuracy)
        if live_period is not None:
            if live_period not in LIVE_PERIOD and live_period != FOREVER:
                raise ValueError("live_period is 60-86400 s or 0x7FFFFFFF")
            location["live_period"] = live_period
            if heading is not None:
                location["heading"] = heading
        return await self._user_sends(user, chat_id, {"location": location}, reply_to_message_id)

    async def move_live_location(self: BotApiEmulator, user: User, chat_id: int, message_id: int, lat: float,
                                 lon: float, horizontal_accuracy: float | None = None) -> dict:
        """The phone moves a live location: Telegram edits the message and sends `edited_message`."""
        msg = self._all.get((chat_id, message_id))
        if msg is None or msg["from"]["id"] != user.id or "live_period" not in msg.get("location", {}):
            raise ValueError("no live location of this user to move")
        if time.time() > msg["date"] + msg["location"]["live_period"]:
            raise ValueError("the live location has expired")
        msg["location"].update(latitude=lat, longitude=lon)
        if horizontal_accuracy is not None:
            msg["location"]["horizontal_accuracy"] = float(horizontal_accuracy)
        msg["edit_date"] = int(time.time())
        if self.bot_sees(self._chat(chat_id), msg):
            await self._push({"edited_message": msg})
        return msg

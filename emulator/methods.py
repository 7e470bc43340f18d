"""The Bot API methods the bot uses, over the emulator's state (a mixin of BotApiEmulator).

Each `api_<method>` takes the decoded parameters and returns the `result`, or raises ApiError.
They validate everything before changing state, so a refused call leaves no trace.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.wire import ApiError, Upload, bad_request, formatted, inline_markup, public

if TYPE_CHECKING:
    from emulator.server import BotApiEmulator

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message")
ADMIN_RIGHTS = {k: True for k in ("can_be_edited", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                                  "can_restrict_members", "can_promote_members", "can_change_info",
                                  "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
                                  "can_pin_messages")} | {"is_anonymous": False}

RESTRICTED_RIGHTS = {f"can_{k}": False for k in (
    "change_info", "invite_users", "pin_messages", "send_messages", "send_polls", "send_other_messages",
    "add_web_page_previews", "manage_topics", "send_audios", "send_documents", "send_photos", "send_videos",
    "send_video_notes", "send_voice_notes", "edit_tag", "react_to_messages")}


class BotApiMethods:
    # ---- bot and updates ---------------------------------------------------------------------------
    def api_getMe(self: BotApiEmulator, p):
        return {**self.bot.to_dict(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def api_logOut(self: BotApiEmulator, p):
        return True

    def api_close(self: BotApiEmulator, p):
        return True

    async def api_setWebhook(self: BotApiEmulator, p):
        if not str(p.get("url") or "").startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        await self._set_webhook(dict(p))
        return True

    async def api_deleteWebhook(self: BotApiEmulator, p):
        await self._set_webhook(None)
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def api_getWebhookInfo(self: BotApiEmulator, p):
        hook = self.webhook or {}
        return {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates), "max_connections": hook.get("max_connections", 40)}

    async def api_getUpdates(self: BotApiEmulator, p):
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        return await self._long_poll(p.get("offset") or 0, p.get("limit") or 100, p.get("timeout") or 0)

    def api_setMyCommands(self: BotApiEmulator, p):
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for c in commands:
            if not isinstance(c, dict) or not c.get("command") or not c.get("description"):
                raise bad_request("command description is empty" if isinstance(c, dict) and c.get("command")
                                  else "BOT_COMMAND_INVALID")
        self.commands[_commands_key(p)] = commands
        return True

    def api_deleteMyCommands(self: BotApiEmulator, p):
        self.commands.pop(_commands_key(p), None)
        return True

    def api_getMyCommands(self: BotApiEmulator, p):
        return self.commands.get(_commands_key(p), [])

    # ---- sending -----------------------------------------------------------------------------------
    def api_sendMessage(self: BotApiEmulator, p):
        return self._send(p, formatted(p, "text"))

    def api_sendPhoto(self: BotApiEmulator, p):
        caption = formatted(p, "caption")
        self._check_photo_ref(p.get("photo"), p)
        return self._send(p, lambda: {"photo": self._photo(p.get("photo"), p), **caption})

    def api_sendDocument(self: BotApiEmulator, p):
        caption, doc = formatted(p, "caption"), p.get("document")
        if not (isinstance(doc, Upload) and doc.data or isinstance(doc, str) and doc in self.files.by_id):
            raise bad_request("wrong file identifier/HTTP URL specified")

        def content() -> dict:
            if isinstance(doc, str):
                return {"document": self.files.by_id[doc].document(), **caption}
            stored = self.files.add(doc.data, "document", doc.filename, doc.content_type)
            return {"document": stored.document(), **caption}
        return self._send(p, content)

    def api_sendMediaGroup(self: BotApiEmulator, p):
        self._chat(p.get("chat_id"))
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media in the album (2-10)")
        if any(not isinstance(item, dict) or item.get("type") != "photo" for item in media):
            raise bad_request("the emulator's albums hold photos only")
        captions = [formatted(item, "caption") for item in media]  # all valid before any is stored
        for item in media:
            self._check_photo_ref(item.get("media"), p)
        group = f"album-{next(self._ids)}"
        return [self._send({**p, "parse_mode": item.get("parse_mode")},
                           lambda item=item, caption=caption: {"photo": self._photo(item.get("media"), p),
                                                               "media_group_id": group, **caption})
                for item, caption in zip(media, captions, strict=True)]

    def api_sendLocation(self: BotApiEmulator, p):
        return self._send(p, {"location": _location(p)})

    def api_sendVenue(self: BotApiEmulator, p):
        location = _location(p)
        if not p.get("title") or not p.get("address"):
            raise bad_request("venue title and address must be non-empty")
        venue = {"location": location, "title": str(p["title"]), "address": str(p["address"])}
        return self._send(p, {"location": location, "venue": venue})

    def api_sendChatAction(self: BotApiEmulator, p):
        self._chat(p.get("chat_id"))
        if not p.get("action"):
            raise bad_request("action is empty")
        return True

    # ---- editing and deleting ----------------------------------------------------------------------
    def api_editMessageText(self: BotApiEmulator, p):
        msg = self._own_message(p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        return self._edit(msg, formatted(p, "text"), ("text", "entities"), p)

    def api_editMessageCaption(self: BotApiEmulator, p):
        msg = self._own_message(p)
        if not any(k in msg for k in ("photo", "document")):
            raise bad_request("there is no caption in the message to edit")
        return self._edit(msg, formatted(p, "caption"), ("caption", "caption_entities"), p)

    def api_editMessageReplyMarkup(self: BotApiEmulator, p):
        return self._edit(self._own_message(p), {}, (), p)

    def api_deleteMessage(self: BotApiEmulator, p):
        key = (self._chat(p.get("chat_id"))["id"], p.get("message_id"))
        msg = self._all.pop(key, None)
        if msg is None:
            raise bad_request("message to delete not found")
        msg["deleted"] = True
        if msg in self._bot_msgs.get(key[0], []):
            self._bot_msgs[key[0]].remove(msg)
        return True

    # ---- callbacks, files, chats -------------------------------------------------------------------
    def api_answerCallbackQuery(self: BotApiEmulator, p):
        qid = str(p.get("callback_query_id") or "")
        query = self._queries.get(qid)
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers[qid] = dict(p)
        return True

    def api_getFile(self: BotApiEmulator, p):
        return self.files.get_file(str(p.get("file_id") or ""))

    def api_getChat(self: BotApiEmulator, p):
        chat = self._chat(p.get("chat_id"))
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    def api_getChatMember(self: BotApiEmulator, p):
        chat = self._chat(p.get("chat_id"))
        user_id = p.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        return self._member(chat, user_id)

    def api_getChatAdministrators(self: BotApiEmulator, p):
        chat = self._chat(p.get("chat_id"))
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        bot = [self.bot.id] if self.bot_is_admin(chat["id"]) else []
        return [self._member(chat, uid) for uid in [*bot, *sorted(self.admins.get(chat["id"], ()))]]

    # ---- helpers -----------------------------------------------------------------------------------
    def _member(self: BotApiEmulator, chat: dict, user_id: int) -> dict:
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)
        user_dict = user.to_dict() if user else {"id": user_id, "is_bot": False, "first_name": "Unknown"}
        if chat["type"] != "private" and self.owners.get(chat["id"]) == user_id:
            return {"status": "creator", "user": user_dict, "is_anonymous": False}
        bot_admin = user_id == self.bot.id and self.bot_is_admin(chat["id"])
        if chat["type"] != "private" and (bot_admin or user_id in self.admins.get(chat["id"], ())):
            return {"status": "administrator", "user": user_dict, **ADMIN_RIGHTS}
        if restricted := self.restricted_member(chat, user_id, user_dict):
            return restricted
        if user_id in self.members.get(chat["id"], ()) or chat["id"] == user_id:
            return {"status": "member", "user": user_dict}
        if user_id == self.bot.id:  # a group the bot is in, but not as an administrator
            return {"status": "member", "user": user_dict}
        return {"status": "left", "user": user_dict}

    def _send(self: BotApiEmulator, p: dict, content: dict | Callable[[], dict]) -> dict:
        """Stores a new bot message and returns its public form.

        `content` may be a function, called only once every check has passed (it stores uploads).
        """
        chat = self._chat(p.get("chat_id"))
        if chat["id"] in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        markup = inline_markup(p.get("reply_markup"))
        reply_to = self._reply_target(chat["id"], p)
        content = content() if callable(content) else content
        msg = self._new_message(chat, self.bot.to_dict(), content, reply_to)
        if markup:
            msg["reply_markup"] = markup
        elif p.get("reply_markup"):
            msg["reply_keyboard"] = p["reply_markup"]
        msg["parse_mode"] = p.get("parse_mode")
        msg["edit_history"] = []
        self._bot_msgs.setdefault(chat["id"], []).append(msg)
        self._sent_at.setdefault(chat["id"], []).append((time.monotonic(), "send"))
        return copy.deepcopy(public(msg))

    def _reply_target(self: BotApiEmulator, chat_id: int, p: dict) -> int | None:
        reply = p.get("reply_parameters") or {}
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target or p.get("reply_to_message_id")
        if target is None or (chat_id, target) in self._all:
            return target
        if reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def _photo(self: BotApiEmulator, value: Any, p: dict) -> list[dict]:
        value = self._check_photo_ref(value, p)
        if isinstance(value, Upload):
            return self.files.photo(value.data)
        return self.files.resend_photo(value)

    def _check_photo_ref(self: BotApiEmulator, value: Any, p: dict) -> Upload | str:
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value[len("attach://"):])
            if not isinstance(value, Upload):
                raise bad_request("wrong file identifier/HTTP URL specified: attached file not found")
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            return value
        if not isinstance(value, str) or not value:
            raise bad_request("there is no photo in the request")
        self.files.resend_photo(value)  # raises if unknown
        return value

    def _own_message(self: BotApiEmulator, p: dict) -> dict:
        if p.get("inline_message_id"):
            raise bad_request("the emulator has no inline messages")
        chat = self._chat(p.get("chat_id"))
        msg = self._all.get((chat["id"], p.get("message_id")))
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.bot.id:
            raise bad_request("message can't be edited")
        return msg

    def _edit(self: BotApiEmulator, msg: dict, changes: dict, fields: tuple, p: dict) -> dict:
        """Edits in place, keeping the old version; identical content is refused like Telegram does."""
        markup = inline_markup(p.get("reply_markup"))
        if all(msg.get(f) == changes.get(f) for f in fields) and msg.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        msg["edit_history"].append(copy.deepcopy(public(msg)))
        for f in fields:
            msg.pop(f, None)
        msg.update(changes)
        msg.pop("reply_markup", None)  # an edit without reply_markup removes the keyboard
        if markup:
            msg["reply_markup"] = markup
        if fields:
            msg["parse_mode"] = p.get("parse_mode")
        msg["edit_date"] = int(time.time())
        self._sent_at.setdefault(msg["chat"]["id"], []).append((time.monotonic(), "edit"))
        return copy.deepcopy(public(msg))


def _location(p: dict) -> dict:
    lat, lon = p.get("latitude"), p.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float) \
            or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong latitude or longitude")
    location = {"latitude": float(lat), "longitude": float(lon)}
    accuracy, live = p.get("horizontal_accuracy"), p.get("live_period")
    if accuracy is not None:
        if not 0 <= accuracy <= 1500:
            raise bad_request("wrong horizontal accuracy specified")
        location["horizontal_accuracy"] = float(accuracy)
    if live is not None:
        if not (60 <= live <= 86400 or live == 0x7FFFFFFF):
            raise bad_request("wrong live period specified")
        location["live_period"] = live
    return location


def _commands_key(p: dict) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")

"""The Bot API wire format: decoding request parameters, error bodies, and Telegram's validations.

PTB 22 sends plain calls as application/x-www-form-urlencoded and uploads as multipart/form-data;
in both, every value is a string and structured values (reply_markup, media, ...) are JSON text,
while strings such as `text` are sent raw. So values are decoded by parameter name, never by
guessing from their content (a text of "[1, 2]" must stay a string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.html import HtmlError, parse_html

JSON_FIELDS = {"reply_markup", "media", "commands", "scope", "entities", "caption_entities", "reply_parameters",
               "link_preview_options", "allowed_updates"}
INT_FIELDS = {"message_id", "user_id", "offset", "limit", "reply_to_message_id", "message_thread_id",
              "cache_time", "live_period", "heading", "proximity_alert_radius", "max_connections"}
FLOAT_FIELDS = {"latitude", "longitude", "horizontal_accuracy", "timeout"}
BOOL_FIELDS = {"show_alert", "disable_notification", "protect_content", "drop_pending_updates",
               "allow_sending_without_reply", "has_spoiler", "show_caption_above_media"}

PRIVATE_FIELDS = {"edit_history", "parse_mode", "reply_keyboard", "deleted"}  # the emulator's own, not sent

TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_LIMIT = 4096, 1024, 64
REASONS = {401: "Unauthorized", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests: retry later",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class ApiError(Exception):
    """A Bot API error; becomes {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, code: int, description: str | None = None, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.retry_after = code, retry_after
        self.description = description or REASONS.get(code, "Error")

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


@dataclass
class Upload:
    """A file part of a multipart request (the bytes are left out of reprs and call summaries)."""

    data: bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None

    def __str__(self) -> str:
        return f"<upload {self.filename!r} {len(self.data)} bytes>"


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("request body must be a JSON object")
        params.update(body)
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                value = Upload(value.file.read(), value.filename, value.content_type)
            params[name] = value
    return {name: _decode(name, value) for name, value in params.items()}


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if name in JSON_FIELDS:
            return json.loads(value)
        if name in INT_FIELDS:
            return int(value)
        if name in FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise bad_request(f"can't parse {name}") from None
    if name in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    if name == "chat_id" and value.lstrip("-").isdigit():
        return int(value)  # "@channelname" stays a string
    return value


def utf16_len(text: str) -> int:
    """Telegram measures text (limits, entity offsets) in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def formatted(params: dict, key: str = "text") -> dict:
    """The `text` or `caption` of a send/edit as Telegram stores it: parsed, measured, with entities.

    Returns {} for an absent caption. The `entities`/`caption_entities` parameters are ignored.
    """
    raw = params.get(key)
    raw = "" if raw is None else str(raw)
    text, entities = raw, []
    if params.get("parse_mode") == "HTML":
        try:
            text, entities = parse_html(raw)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if key == "text" and not text.strip():
        raise bad_request("message text is empty")
    limit = TEXT_LIMIT if key == "text" else CAPTION_LIMIT
    if utf16_len(text) > limit:
        raise bad_request("message is too long" if key == "text" else "message caption is too long")
    if not text:
        return {}
    out: dict[str, Any] = {key: text}
    if entities:
        out["entities" if key == "text" else "caption_entities"] = entities
    return out


def inline_markup(markup: Any) -> dict | None:
    """Validates a reply_markup; returns it if it is an inline keyboard (the only kind a Message shows)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None  # reply keyboards, remove_keyboard, force_reply: accepted, not part of the Message
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    for button in (b for row in rows for b in row):
        _check_button(button)
    return markup if rows else None


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    data, url = button.get("callback_data"), button.get("url")
    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        raise bad_request("BUTTON_DATA_INVALID")
    if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")
    if data is None and url is None and not any(k in button for k in ("login_url", "switch_inline_query",
                                                                      "switch_inline_query_current_chat",
                                                                      "web_app", "copy_text", "pay")):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")


def public(message: dict) -> dict:
    """A stored message as the Bot API returns it, without the emulator's bookkeeping fields."""
    return {k: v for k, v in message.items() if k not in PRIVATE_FIELDS}


"""Shared bits for the thin Telegram adapters."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.texts import lang_of
from handlers.ids import int_fields
from storage.media import StoredImage, inspect_and_store


def core(context: ContextTypes.DEFAULT_TYPE):
    return context.application.bot_data["core"]


def config(context: ContextTypes.DEFAULT_TYPE):
    return context.application.bot_data["config"]


async def edit_unless_same(edit) -> None:
    """Await a message edit. A double tap edits to what the message already shows, and Telegram
    answers "message is not modified": nothing is wrong then."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    return lang_of(user.language_code if user else None, config(context).language)


def int_parts(data: str, n: int) -> list[int] | None:
    """The integer fields of callback data like `a:12`; None when forged, malformed or out of range."""
    return int_fields(data, n)


async def store_photo(context, file_id: str) -> tuple[bytes, StoredImage]:
    """Download a photo, check it (size, bombs, corruption) and keep the original. Raises MediaError."""
    cfg = config(context).media
    data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    # Decoding a large image takes CPU time: keep it off the event loop.
    stored = await asyncio.to_thread(inspect_and_store, data, cfg.dir, cfg.max_bytes, cfg.max_pixels)
    return data, stored

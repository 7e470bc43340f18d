"""Shared bits for the thin Telegram adapters."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest

from cases import Core
from cases.prompts import Prompts
from handlers.context import Context
from storage.media import StoredImage
from ui.texts import lang_of


def core(context: Context) -> Core:
    return context.bot_data.core


def prompts(context: Context) -> Prompts:
    """The questions the bot asked and awaits answers to (cases/prompts.Prompts)."""
    return context.bot_data.prompts


def config(context: Context):
    return context.bot_data.config


async def edit_unless_same(edit) -> None:
    """Await a message edit. A double tap edits to what the message already shows, and Telegram
    answers "message is not modified": nothing is wrong then."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def lang(update: Update, context: Context) -> str:
    user = update.effective_user
    return lang_of(user.language_code if user else None, core(context).settings.group_lang)


async def store_photo(context, file_id: str, user_id: int, announced: int | None = None) -> StoredImage:
    """Check a photo (size, quota, bombs, corruption), download it to disk and keep the original.
    Raises MediaError."""
    receive = context.bot_data.receive_photo  # bot/uploads, given: handlers do not import bot/
    return await receive(context, user_id, file_id, announced)

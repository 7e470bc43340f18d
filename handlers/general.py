"""/start, /help, /cancel, anything unexpected, and the global error handler."""

from __future__ import annotations

import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ChatType

from handlers.common import core, lang
from handlers.context import Context
from ui.ids import parse_id
from ui.texts import t

log = logging.getLogger(__name__)


def _private(update: Update) -> bool:
    return bool(update.effective_chat and update.effective_chat.type == ChatType.PRIVATE)


async def start(update: Update, context: Context) -> None:
    lg = lang(update, context)
    arg = (context.args or [""])[0]
    if _private(update) and arg[:2] in ("ci", "cs", "cv"):  # a deep link from a card: check in on site
        if parse_id(arg[2:]) is None:
            return await update.effective_message.reply_text(t("stale", lg))
        from handlers import checkin
        return await checkin.start(update, context, arg)
    key = "start" if _private(update) else "group_help"
    await update.effective_message.reply_text(t(key, lg, n=core(context).settings.max_photos))


async def help_(update: Update, context: Context) -> None:
    lg = lang(update, context)
    await update.effective_message.reply_text(t("help" if _private(update) else "group_help", lg))


async def cancel(update: Update, context: Context) -> None:
    lg = lang(update, context)
    # In a group, only a draft started in that group (a grid worker's) is this /cancel's to drop.
    chat = None if _private(update) else update.effective_chat.id
    gone = await core(context).intake.cancel_draft(update.effective_user.id, chat)
    await update.effective_message.reply_text(t("cancelled" if gone else "nothing_to_cancel", lg),
                                              reply_markup=ReplyKeyboardRemove() if _private(update) else None)


async def unknown_tap(update: Update, context: Context) -> None:
    """Forged or stale button data: answer it, so no spinner is left turning."""
    await update.callback_query.answer(t("stale", lang(update, context)))


async def on_error(update: object, context: Context) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    lg = lang(update, context)
    try:
        if update.callback_query:
            await update.callback_query.answer(t("error", lg), show_alert=True)
        elif update.effective_message and _private(update):
            await update.effective_message.reply_text(t("error", lg))
    except Exception:  # the answer is best effort; never raise from the error handler
        log.exception("could not tell the user about an error")


"""/start, /help, /cancel, anything unexpected, and the global error handler."""

from __future__ import annotations

import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.texts import t
from handlers.common import core, lang
from handlers.ids import parse_id

log = logging.getLogger(__name__)


def _private(update: Update) -> bool:
    return bool(update.effective_chat and update.effective_chat.type == ChatType.PRIVATE)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lg = lang(update, context)
    arg = (context.args or [""])[0]
    if _private(update) and arg[:2] in ("ci", "cs", "cv"):  # a deep link from a card: check in on site
        if parse_id(arg[2:]) is None:
            return await update.effective_message.reply_text(t("stale", lg))
        from handlers import checkin
        return await checkin.start(update, context, arg)
    key = "start" if _private(update) else "group_help"
    await update.effective_message.reply_text(t(key, lg, n=core(context).settings.max_photos), parse_mode="HTML")


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lg = lang(update, context)
    await update.effective_message.reply_text(t("help" if _private(update) else "group_help", lg),
                                              parse_mode="HTML")


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lg = lang(update, context)
    # In a group, only a draft started in that group (a grid worker's) is this /cancel's to drop.
    chat = None if _private(update) else update.effective_chat.id
    gone = await core(context).cancel_draft(update.effective_user.id, chat)
    await update.effective_message.reply_text(t("cancelled" if gone else "nothing_to_cancel", lg),
                                              reply_markup=ReplyKeyboardRemove() if _private(update) else None)


async def unknown_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forged or stale button data: answer it, so no spinner is left turning."""
    await update.callback_query.answer(t("stale", lang(update, context)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
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


async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bind CODE: in a group, the group becomes a street's, department's or grid cell's; in a private
    chat, a worker code registers the sender as a grid worker (codes from `python -m bot bind-code`)."""
    lg, msg = lang(update, context), update.effective_message
    if len(context.args or []) != 1:
        return await msg.reply_text(t("bind_usage", lg))
    outcome = await core(context).bind(context.args[0], msg.chat_id, update.effective_user.id, _private(update))
    if not outcome.ok:
        return await msg.reply_text(t(outcome.key, lg))
    kind, target = outcome.bound
    if kind == "worker":
        return await msg.reply_text(t("worker_registered", lg, grid=target))
    name = core(context).dept_name(target) if kind == "department" else target
    await msg.reply_text(t("bound", lg, name=name))

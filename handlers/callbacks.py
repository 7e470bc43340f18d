"""/callback NUMBER 满意|基本满意|不满意 [note]: a command-centre member records a phone-back (回访)."""

from __future__ import annotations

from telegram import Update

from handlers.common import core, lang
from handlers.context import Context
from handlers.taps import is_member
from ui.texts import t


async def callback(update: Update, context: Context) -> None:
    msg, user, lg = update.effective_message, update.effective_user, lang(update, context)
    args = context.args or []
    if len(args) < 2:
        return await msg.reply_text(t("callback_usage", lg))
    command = core(context).settings.command_chat
    if not command or not await is_member(context, command, user.id):
        return await msg.reply_text(t("callback_not_command", lg))
    outcome = await context.bot_data.phonebacks.record(
        args[0], args[1], " ".join(args[2:]), user.id, user.full_name, msg.chat_id)
    number = outcome.case.number if outcome.case else args[0]
    await msg.reply_text(t(outcome.key, lg, number=number))

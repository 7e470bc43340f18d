"""Group chats: a street's handler accepts a case; the command centre assigns unrouted ones."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from bot.texts import t
from handlers.common import core, int_parts, lang

MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER,
          ChatMemberStatus.RESTRICTED}


async def is_member(context, chat_id: int, user_id: int) -> bool:
    member = await context.bot.get_chat_member(chat_id, user_id)
    return member.status in MEMBER


async def on_accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user, lg = update.callback_query, update.effective_user, lang(update, context)
    ids = int_parts(query.data, 1)
    chat_id = query.message.chat_id
    if ids is None:
        return await query.answer(t("stale", lg))
    if not await is_member(context, chat_id, user.id):
        return await query.answer(t("not_your_group", lg), show_alert=True)
    outcome = await core(context).accept(ids[0], user.id, user.full_name, chat_id)
    if outcome.ok:
        return await query.answer(t("accepted_tap", lg))
    name = outcome.case.handler_name if outcome.case else ""
    await query.answer(t(outcome.key, lg, name=name or ""), show_alert=outcome.key == "not_your_group")


async def on_route(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user, lg = update.callback_query, update.effective_user, lang(update, context)
    ids = int_parts(query.data, 2)
    streets = list(core(context).settings.street_chats)
    if ids is None or ids[1] >= len(streets):
        return await query.answer(t("stale", lg))
    chat_id = query.message.chat_id
    if not await is_member(context, chat_id, user.id):
        return await query.answer(t("not_your_group", lg), show_alert=True)
    outcome = await core(context).route_manually(ids[0], streets[ids[1]], user.id, chat_id)
    await query.answer(t("routed_tap" if outcome.ok else outcome.key, lg))

"""Who may act on an accepted case, in the groups (issue 11; the rule is in cases/acting.py): a refused
member is offered an explicit "接手 / Take over"."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus

from cases import acting
from handlers.common import core, lang
from handlers.context import Context
from handlers.taps import Tap, is_member, tap
from ui import buttons
from ui.keys import key
from ui.texts import mention, t

ADMINS = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
extension_asker = acting.extension_asker  # who asked for the extension a reply gives the reason of


async def is_admin(context, chat_id: int, user_id: int) -> bool:
    return (await context.bot.get_chat_member(chat_id, user_id)).status in ADMINS


async def allowed(update: Update, context, case) -> bool:
    """True for the case's handler, the group's administrators, and any member before acceptance.
    Otherwise say who handles it and offer to take it over (a button only the asker can use)."""
    user, chat_id = update.effective_user, update.effective_chat.id
    if case is None or core(context).directory.owner_chat(case) != chat_id:
        return True  # not this group's case: the action's own checks refuse it, nothing is revealed here
    if acting.may_act(case, user.id, False) or await is_admin(context, chat_id, user.id):
        return True
    lg, group_lg = lang(update, context), core(context).settings.group_lang
    if update.callback_query:
        await update.callback_query.answer(t("handler_only", lg, name=case.handler_name or ""), show_alert=True)
    keyboard = InlineKeyboardMarkup([[key("take_over", group_lg, buttons.TAKE_OVER, case.id, user.id)]])
    await context.bot.send_message(chat_id, t("offer_take_over", group_lg, user=mention(user.id, user.full_name),
                                              number=case.number, name=case.handler_name or ""), reply_markup=keyboard)
    return False


async def may_answer(update: Update, context, asked_by: int | None) -> bool:
    """A reply to the bot's question: from the person asked, or an administrator."""
    user, msg = update.effective_user, update.effective_message
    if asked_by in (None, user.id) or await is_admin(context, msg.chat_id, user.id):
        return True
    await msg.reply_text(t("prompt_not_yours", core(context).settings.group_lang))
    return False


@tap(buttons.TAKE_OVER)
async def on_take_over(update: Update, context: Context, tap: Tap) -> None:
    """O:case:user — the member who was offered it takes the case over."""
    query, user, lg, chat_id = tap.query, tap.user, tap.lg, tap.chat_id
    case_id, offered_to = tap.values
    if offered_to != user.id:
        return await query.answer(t("not_your_button", lg), show_alert=True)
    if not await is_member(context, chat_id, user.id):
        return await query.answer(t("not_your_group", lg), show_alert=True)
    outcome = await acting.take_over(core(context), case_id, user.id, user.full_name, chat_id)
    await query.answer(t(outcome.key, lg), show_alert=not outcome.ok)
    if outcome.ok or outcome.key in ("wrong_state", "already_handler", "stale"):
        await query.edit_message_reply_markup(None)

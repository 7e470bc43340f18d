"""Binding and its guards (issue 11): /bind by a group's creator or administrators, rebinds confirmed by
the command centre, /unbind and /revoke in the command centre."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus

from handlers.common import core, lang
from handlers.context import Context
from handlers.taps import Tap, is_member, tap
from ui import buttons
from ui.keys import key
from ui.texts import t

ADMINS = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}


def _private(update: Update) -> bool:
    return update.effective_chat.type == "private"


async def bind(update: Update, context: Context) -> None:
    """/bind CODE: in a group, the group becomes a street's, department's or grid cell's; in a private
    chat, a worker code registers the sender as a grid worker (codes from `python -m bot bind-code`)."""
    lg, msg, user, c = lang(update, context), update.effective_message, update.effective_user, core(context)
    if len(context.args or []) != 1:
        return await msg.reply_text(t("bind_usage", lg))
    admin = _private(update) or (await context.bot.get_chat_member(msg.chat_id, user.id)).status in ADMINS
    outcome = await c.bindings.bind(context.args[0], msg.chat_id, user.id, _private(update), admin)
    if not outcome.ok:
        name = c.bindings.unit_name(*outcome.bound) if outcome.bound else ""
        return await msg.reply_text(t(outcome.key, lg, name=name))
    kind, target = outcome.bound
    if kind == "worker":
        return await msg.reply_text(t("worker_registered", lg, grid=target))
    name = c.bindings.unit_name(kind, target)
    if outcome.key == "rebind_asked":
        await msg.reply_text(t("rebind_asked", lg, name=name))
        return await ask_command_centre(context, outcome.request_id, name, c.bindings.bound_chat(kind, target),
                                        update.effective_chat, user)
    await msg.reply_text(t("bound", lg, name=name))


async def ask_command_centre(context, request_id: int, name: str, old: int | None, chat, user) -> None:
    c = core(context)
    lg = c.settings.group_lang
    keyboard = InlineKeyboardMarkup([[
        key("rebind_yes", lg, buttons.REBIND, request_id, True),
        key("rebind_no", lg, buttons.REBIND, request_id, False)]])
    text = t("rebind_request", lg, name=name, old=old or "—", title=chat.title or "", chat=chat.id,
             user=f"{user.full_name} ({user.id})")
    await context.bot.send_message(c.settings.command_chat, text, reply_markup=keyboard)


@tap(buttons.REBIND, member=True)
async def on_rebind_decision(update: Update, context: Context, tap: Tap) -> None:
    """bd:REQUEST:1 confirms, bd:REQUEST:0 refuses; only members of the command centre's group."""
    query, lg = tap.query, tap.lg
    request_id, yes = tap.values
    outcome = await core(context).bindings.decide_rebind(request_id, yes, tap.user.id, tap.chat_id)
    await query.answer(t(outcome.key, lg), show_alert=not outcome.ok)
    if outcome.ok or outcome.key == "already_decided":
        await query.edit_message_reply_markup(None)


async def _in_command_centre(update: Update, context) -> bool:
    c, msg = core(context), update.effective_message
    if msg.chat_id != c.settings.command_chat or not await is_member(context, msg.chat_id, update.effective_user.id):
        await msg.reply_text(t("command_only", lang(update, context)))
        return False
    return True


async def unbind(update: Update, context: Context) -> None:
    """/unbind street|department|grid NAME (the command centre)."""
    lg, msg, c = lang(update, context), update.effective_message, core(context)
    if not await _in_command_centre(update, context):
        return
    args = context.args or []
    if len(args) < 2:
        return await msg.reply_text(t("unbind_usage", lg))
    kind, target = args[0], " ".join(args[1:])
    outcome = await c.bindings.unbind(kind, target, update.effective_user.id, msg.chat_id)
    name = c.bindings.unit_name(kind, target) if outcome.ok else ""
    await msg.reply_text(t(outcome.key, lg, name=name))


async def revoke(update: Update, context: Context) -> None:
    """/revoke USER_ID (the command centre): the grid worker loses the fast flow at once."""
    lg, msg, c = lang(update, context), update.effective_message, core(context)
    if not await _in_command_centre(update, context):
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 15:
        return await msg.reply_text(t("revoke_usage", lg))
    outcome = await c.bindings.revoke_worker(int(args[0]), update.effective_user.id, msg.chat_id)
    grid = outcome.bound[1] if outcome.bound else ""
    await msg.reply_text(t(outcome.key, lg, user=args[0], grid=grid))

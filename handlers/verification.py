"""The verification card's taps (核查结案): ✅ done confirms; ❌ not done asks why (the reply reopens)."""

from __future__ import annotations

from telegram import Update

from handlers.common import core
from handlers.context import Context
from handlers.staff import ask
from handlers.taps import Tap, tap
from ui import buttons
from ui.texts import t


def verification(context):
    return context.bot_data.verification


@tap(buttons.VERIFY, member=True)
async def on_tap(update: Update, context: Context, tap: Tap) -> None:
    """vf:CASE:1 done, vf:CASE:0 not done; both only after the member checked in on site."""
    query, user, lg, chat_id = tap.query, tap.user, tap.lg, tap.chat_id
    case_id, done = tap.values
    v = verification(context)
    if done:
        outcome = await v.confirm(case_id, user.id, user.full_name, chat_id)
    else:
        outcome = await v.may_verify(case_id, user.id, chat_id)
        if outcome.ok:
            return await ask(query, context, "verify_no", case_id,
                             t("ask_verify_no", core(context).settings.group_lang, number=outcome.case.number))
    await query.answer(t(outcome.key, lg), show_alert=not outcome.ok)
    if outcome.ok or outcome.key == "verify_over":
        await query.edit_message_reply_markup(None)


async def on_reason(update: Update, context, prompt) -> None:
    """The reply to "what is not fixed?": the case goes back to the street."""
    msg, user = update.effective_message, update.effective_user
    outcome = await verification(context).not_done(prompt.target_id, user.id, user.full_name, msg.chat_id, msg.text)
    await msg.reply_text(t(outcome.key, core(context).settings.group_lang))
    if outcome.ok:
        cards = [c for c in await core(context).lifecycle.cards_of(prompt.target_id) if c.kind == "verify"]
        for card in cards:
            await context.bot.edit_message_reply_markup(card.chat_id, card.message_id, reply_markup=None)

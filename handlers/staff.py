"""Group chats: a street's handler accepts a case; the command centre assigns unrouted ones."""

from __future__ import annotations

from datetime import timedelta

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update

from cases.channels import ChannelIntake
from cases.policy import parse_due
from cases.rounds import moved_on
from cases.states import Action, CallAction, may
from handlers import acting
from handlers.common import core, edit_unless_same, lang, prompts, store_photo
from handlers.context import Context
from handlers.taps import Tap, tap
from storage.media import MediaError
from ui import buttons, picker
from ui.keys import key
from ui.texts import BUTTONS, mention, pick, t


async def ask(query, context, kind: str, target_id: int, text: str, data: dict | None = None) -> None:
    """Ask in the group for a reply (a reason, a time); the reply finishes the action (on_group_reply)."""
    c, chat_id = core(context), query.message.chat_id
    if await prompts(context).prompt_open(chat_id, kind, target_id):
        return await query.answer(t("prompt_asked", c.settings.group_lang))
    await query.answer()
    prompt = await force_reply(query, text)
    await prompts(context).save_prompt(chat_id, prompt.message_id, kind, target_id, query.from_user.id, data)


async def force_reply(query, text: str):
    """A ForceReply aimed at whoever tapped: `selective` reaches the users mentioned in the text."""
    user = query.from_user
    return await query.message.reply_text(f"{mention(user.id, user.full_name).html} {text}",
                                          reply_markup=ForceReply(selective=True))


async def on_prompt_reply(update: Update, context, prompt) -> None:
    """The reply to one of ask()'s questions: the reason for "not ours", or a typed check-in time."""
    msg, user, c = update.effective_message, update.effective_user, core(context)
    lg = c.settings.group_lang
    if not await acting.may_answer(update, context, prompt.asked_by):
        return
    due = None
    if prompt.kind == "time":
        due = parse_due(msg.text, c.now(), c.settings.calendar, c.settings.tz)
        if due is None:  # the question stays open: they can reply again
            return await msg.reply_text(t("bad_time", lg))
    if not await prompts(context).claim_prompt(prompt.id):
        return await msg.reply_text(t("prompt_used", lg))
    if prompt.kind == "verify_no":  # what a verifier found not fixed
        from handlers.verification import on_reason
        return await on_reason(update, context, prompt)
    if prompt.kind == "not_ours":
        outcome = await c.lifecycle.not_ours(prompt.target_id, user.id, msg.chat_id, msg.text)
    elif prompt.kind == "decline":
        outcome = await c.disposal.decline_call(prompt.target_id, user.id, user.full_name, msg.chat_id, msg.text)
    else:
        keys = picker.departments_in(c.settings, prompt.data["mask"])
        outcome = await c.disposal.call_departments(prompt.target_id, keys, due, user.id, user.full_name, msg.chat_id,
                                           prompt.data.get("place"))
    await msg.reply_text(t(outcome.key, lg))


@tap(buttons.ACCEPT, member=True)
async def on_accept(update: Update, context: Context, tap: Tap) -> None:
    query, user, lg = tap.query, tap.user, tap.lg
    outcome = await core(context).lifecycle.accept(tap.values[0], user.id, user.full_name, tap.chat_id)
    if outcome.ok:
        return await query.answer(t("accepted_tap", lg))
    name = outcome.case.handler_name if outcome.case else ""
    await query.answer(t(outcome.key, lg, name=name or ""), show_alert=outcome.key == "not_your_group")


@tap(buttons.ROUTE, member=True)
async def on_route(update: Update, context: Context, tap: Tap) -> None:
    case_id, index = tap.values
    streets = list(core(context).settings.street_chats)
    if index >= len(streets):
        return await tap.query.answer(t("stale", tap.lg))
    outcome = await core(context).lifecycle.route_manually(case_id, streets[index], tap.user.id, tap.chat_id)
    await tap.query.answer(t("routed_tap" if outcome.ok else outcome.key, tap.lg))


# ---- after acceptance: resolve, call, not ours (street group) --------------------------------------


async def _answer(query, lg: str, outcome) -> None:
    await query.answer(t(outcome.key, lg), show_alert=not outcome.ok and outcome.key != "stale")


@tap(buttons.RESOLVE_HOW, buttons.NOT_OURS, buttons.CALL, buttons.PICK, member=True)
async def on_street_action(update: Update, context: Context, tap: Tap) -> None:
    """R: how to resolve; N: not ours; C: call (a new selection message); K: toggle a department on it,
    or turn its page.
    The selection lives in the button data (a bit mask), so it survives a restart."""
    query, lg, chat_id, c = tap.query, tap.lg, tap.chat_id, core(context)
    case = await c.lifecycle.load_case(tap.values[0])
    if not await acting.allowed(update, context, case):
        return
    if tap.button is buttons.RESOLVE_HOW:
        round_ = tap.values[1]
        return await query.answer(t("old_round" if moved_on(case, round_) else "resolve_how", lg), show_alert=True)
    if tap.button is buttons.NOT_OURS:  # not ours: ask why, then hand it back (on the reply)
        if case is None or c.directory.owner_chat(case) != chat_id or not may(Action.HAND_BACK, case.state):
            return await query.answer(t("stale", lg))
        return await ask(query, context, "not_ours", case.id, t("ask_not_ours", c.settings.group_lang,
                                                                   number=case.number))
    case_id, mask, page = tap.values[0], tap.values[1], tap.values[2] or 0
    if case is None or c.directory.owner_chat(case) != chat_id or not may(Action.CALL, case.state):
        return await query.answer(t("stale", lg))
    await query.answer()
    text = picker.text(c.settings, case.number, mask, page)
    keyboard = picker.keyboard(c.settings, case_id, mask, page, onsite_due(c, case))
    if tap.button is buttons.PICK:  # a toggle or another page on the selection message: edit it in place
        await edit_unless_same(query.edit_message_text(text, reply_markup=keyboard))
    else:  # a reply with a location to this picker sets another meeting place
        asked = await query.message.reply_text(text, reply_markup=keyboard)
        await prompts(context).save_prompt(chat_id, asked.message_id, "pick", case_id, tap.user.id)


def open_onsite(case):
    """The case's own on-site deadline (limits.checkin) while it is open, not a call's."""
    return next((d for d in case.deadlines if d.kind == "checkin" and d.call_id is None and d.status == "open"),
                None)


def onsite_due(c, case):
    """The case's own on-site deadline, while open and ahead: the call's natural time."""
    due = (d := open_onsite(case)) and d.due_at
    return due if due and due > c.now() else None


@tap(buttons.CALL_BY, member=True)
async def on_call_confirm(update: Update, context: Context, tap: Tap) -> None:
    query, user, lg = tap.query, tap.user, tap.lg
    c, chat_id = core(context), tap.chat_id
    case_id, mask, when = tap.values
    if not await acting.allowed(update, context, await c.lifecycle.load_case(case_id)):
        return
    keys = picker.departments_in(c.settings, mask)
    if not keys:
        return await query.answer(t("pick_one", lg), show_alert=True)
    asked = await prompts(context).prompt_at(chat_id, query.message.message_id)
    place = asked.data.get("place") if asked and asked.kind == "pick" else None
    if when == "typed":
        return await ask(query, context, "time", case_id, t("ask_time", c.settings.group_lang),
                         {"mask": mask, "place": place})
    now = c.now()
    if when == "cd":  # by the case's own on-site deadline
        case = await c.lifecycle.load_case(case_id)
        due = onsite_due(c, case) if case else None
        if due is None:
            return await query.answer(t("stale", lg))
    elif when == "am":  # 09:00 on the next working day
        local = now.astimezone(c.settings.tz)
        due = c.settings.calendar.add_workdays(local.replace(hour=9, minute=0, second=0, microsecond=0), 1)
    else:
        due = now + timedelta(minutes=when)
    outcome = await c.disposal.call_departments(case_id, keys, due, user.id, user.full_name, chat_id, place)
    await _answer(query, lg, outcome)
    if outcome.ok:
        await query.edit_message_reply_markup(None)


# ---- department group: answer, decline; notes by replying to the card ---------------------------------
@tap(buttons.ANSWER, buttons.DECLINE, member=True)
async def on_department_action(update: Update, context: Context, tap: Tap) -> None:
    query, user, lg, chat_id, c = tap.query, tap.user, tap.lg, tap.chat_id, core(context)
    if tap.button is buttons.ANSWER:
        return await _answer(query, lg, await c.disposal.answer_call(tap.values[0], user.id, user.full_name, chat_id))
    call = await c.disposal.load_call(tap.values[0])  # not ours: ask why, then decline (on the reply)
    case = await c.lifecycle.load_case(call.case_id) if call else None
    if case is None or c.directory.department_chat(call.department) != chat_id:
        return await query.answer(t("stale", lg))
    if not may(CallAction.DECLINE, call.status):
        return await query.answer(t("call_" + call.status, lg))
    await ask(query, context, "decline", call.id, t("ask_decline", c.settings.group_lang, number=case.number))


@tap(buttons.RATE_DEPARTMENT, buttons.RATE_CALL, member=True)
async def on_mutual_rating(update: Update, context: Context, tap: Tap) -> None:
    c = core(context)
    call_id, value, round_ = tap.values
    rate = c.disposal.rate_department if tap.button is buttons.RATE_DEPARTMENT else c.disposal.rate_call
    outcome = await rate(call_id, tap.chat_id, tap.user.id, value, round_)
    await _answer(tap.query, tap.lg, outcome)
    if outcome.ok:
        await tap.query.edit_message_reply_markup(None)


async def on_group_reply(update: Update, context: Context) -> None:
    """A reply to a card: on a street card, a resolution (after photo + caption); on a call card, a note."""
    msg, user, lg, c = update.effective_message, update.effective_user, lang(update, context), core(context)
    prompt = await prompts(context).prompt_at(msg.chat_id, msg.reply_to_message.message_id)
    loc = msg.venue.location if msg.venue else msg.location
    if loc:  # a place for the call being prepared on this picker
        if prompt is None or prompt.kind != "pick":
            return await place_case(update, context, loc)
        await prompts(context).set_prompt_place(prompt.id, loc.latitude, loc.longitude,
                                                msg.venue.title if msg.venue else None)
        return await msg.reply_text(t("call_place_set", c.settings.group_lang))
    if msg.text and prompt and prompt.kind != "pick":
        return await on_prompt_reply(update, context, prompt)
    if msg.text:  # the reason for an extension, answering the bot's prompt
        asker = await acting.extension_asker(c, msg.chat_id, msg.reply_to_message.message_id)
        if asker is not None and not await acting.may_answer(update, context, asker):
            return
        outcome = await c.escalations.give_reason(msg.chat_id, msg.reply_to_message.message_id, msg.text)
        if outcome is not None:
            return await msg.reply_text(t(outcome.key, lg))
    card = await c.lifecycle.card_at(msg.chat_id, msg.reply_to_message.message_id)
    if card is None:
        return
    if card.kind.startswith("call"):
        if msg.text:
            outcome = await c.disposal.note_on_call(int(card.kind[4:]), user.id, user.full_name, msg.chat_id, msg.text)
            await msg.reply_text(t(outcome.key, lg))
        return
    if card.kind != "street" or not await acting.allowed(update, context, await c.lifecycle.load_case(card.case_id)):
        return
    photo = None
    if msg.photo:
        size = msg.photo[-1]
        try:
            stored = await store_photo(context, size.file_id, user.id, size.file_size)
        except MediaError as exc:
            return await msg.reply_text(t(exc.key, lg, **exc.args_))
        photo = {"file_id": size.file_id, "file_unique_id": size.file_unique_id, "sha256": stored.sha256,
                 "width": stored.width, "height": stored.height}
    outcome = await c.disposal.resolve(card.case_id, user.id, msg.chat_id, msg.caption or msg.text or "", photo,
                                       card.round)
    await msg.reply_text(t({"resolved": "resolved_tap", "old_round": "old_card"}.get(outcome.key, outcome.key), lg))


async def place_case(update: Update, context, loc) -> None:
    """A location in reply to a routing card: the command centre places a case that came as an address."""
    msg = update.effective_message
    card = await core(context).lifecycle.card_at(msg.chat_id, msg.reply_to_message.message_id)
    if card is None or card.kind != "routing":
        return
    outcome = await ChannelIntake(core(context)).place(card.case_id, loc.latitude, loc.longitude,
                                                       update.effective_user.id, msg.chat_id)
    if outcome.key != "has_point":  # a location in reply to another case's routing card changes nothing
        await msg.reply_text(t(outcome.key, lang(update, context)))


# ---- extensions (延期) and difficult cases (疑难件) --------------------------------------------------
@tap(buttons.EXTEND_CASE, buttons.EXTEND_CALL, member=True)
async def on_extend_menu(update: Update, context: Context, tap: Tap) -> None:
    """W: a street's own deadline; V: a call's check-in. Offer how much more time."""
    query, (target_id,) = tap.query, tap.values
    target = "call" if tap.button is buttons.EXTEND_CALL else "case"
    c = core(context)
    if target == "case" and not await acting.allowed(update, context, await c.lifecycle.load_case(target_id)):
        return
    await query.answer()
    times = ("1h", "4h", "1wd")
    rows = [[key("e" + opt, c.settings.group_lang, buttons.EXTEND_BY_HOW_MUCH, target, target_id, opt)
             for opt in times]]
    case = await c.lifecycle.load_case(target_id) if target == "case" else None
    if case and open_onsite(case):
        rows.append([InlineKeyboardButton("📍 " + pick(BUTTONS["onsite_e" + opt], c.settings.group_lang),
                                          callback_data=buttons.EXTEND_BY_HOW_MUCH.data("onsite", target_id, opt))
                     for opt in times])
    keyboard = InlineKeyboardMarkup(rows)
    await query.message.reply_text(t("ext_pick", c.settings.group_lang), reply_markup=keyboard)


@tap(buttons.EXTEND_BY_HOW_MUCH, member=True)
async def on_extend_pick(update: Update, context: Context, tap: Tap) -> None:
    query, user, lg, chat_id = tap.query, tap.user, tap.lg, tap.chat_id
    target, target_id, by = tap.values  # target: case, call, or onsite (the case's on-site deadline)
    c = core(context)
    case = await c.lifecycle.load_case(target_id) if target in ("case", "onsite") else None
    if target in ("case", "onsite") and not await acting.allowed(update, context, case):
        return
    outcome = await c.escalations.ask_extension(target, target_id, by, user.id, user.full_name, chat_id)
    if not outcome.ok:
        return await _answer(query, lg, outcome)
    await query.answer()
    await query.edit_message_reply_markup(None)
    prompt = await force_reply(query, t("ask_reason", c.settings.group_lang))
    await c.escalations.set_extension_prompt(outcome.extension_id, chat_id, prompt.message_id)


@tap(buttons.APPROVE, buttons.REFUSE, member=True)
async def on_extend_decide(update: Update, context: Context, tap: Tap) -> None:
    extension_id, round_ = tap.values
    outcome = await core(context).escalations.decide_extension(extension_id, tap.button is buttons.APPROVE, tap.user.id,
                                                   tap.user.full_name, tap.chat_id, round_)
    await _answer(tap.query, tap.lg, outcome)
    if outcome.ok:
        await tap.query.edit_message_reply_markup(None)


@tap(buttons.DIFFICULT, buttons.DISPUTE, member=True)
async def on_flag_difficult(update: Update, context: Context, tap: Tap) -> None:
    """M:case — the handler marks the case difficult; Q:call — the street disputes a "not ours"."""
    c, flag = core(context), tap.button is buttons.DIFFICULT
    if flag and not await acting.allowed(update, context, await c.lifecycle.load_case(tap.values[0])):
        return
    action = c.escalations.flag_difficult if flag else c.disposal.dispute_decline
    outcome = await action(tap.values[0], tap.user.id, tap.chat_id)
    await _answer(tap.query, tap.lg, outcome)
    if outcome.ok and not flag:
        await tap.query.edit_message_reply_markup(None)


@tap(buttons.ASSIGN, member=True)
async def on_assign(update: Update, context: Context, tap: Tap) -> None:
    """D:case:s3 / D:case:d1 — the duty leader names the responsible street or department."""
    c, (case_id, (kind, index)) = core(context), tap.values
    units = list(c.settings.street_chats) if kind == "s" else list(c.settings.departments)
    if index >= len(units):
        return await tap.query.answer(t("stale", tap.lg))
    outcome = await c.escalations.assign_difficult(case_id, units[index], tap.user.id, tap.user.full_name, tap.chat_id)
    await _answer(tap.query, tap.lg, outcome)
    if outcome.ok:
        await tap.query.edit_message_reply_markup(None)



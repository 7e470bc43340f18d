"""Private chat: a citizen reports a problem (photo, place, category, note, confirm)."""

from __future__ import annotations

from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from cases.intake import CATEGORY, CONFIRM, DESCRIPTION, EXIF, PHOTO, PLACE, DraftView, IntakeError
from cases.withdrawal import Withdrawal
from geo.exif import gps_from_exif
from handlers import checkin
from handlers.common import core, edit_unless_same, lang, prompts, store_photo
from handlers.context import Context
from handlers.owed import OWED
from handlers.taps import Tap, tap
from storage.media import MediaError
from ui import buttons
from ui.keys import key
from ui.limits import chunks
from ui.names import street_name
from ui.texts import BUTTONS, EVENTS, STATES, pick, t

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff")


async def prompt(update: Update, view: DraftView, context, note: str | None = None) -> None:
    """Tell the citizen what the draft needs next."""
    lg, msg = view.lang, update.effective_message
    text, markup = "", None
    if view.step in (PHOTO, CATEGORY, DESCRIPTION):
        text = t("ask_" + view.step, lg)
    if view.step == PLACE and msg.chat.type != "private":  # location buttons work in private chats only
        text = t("ask_place_group", lg, n=len(view.photos))
    elif view.step == PLACE:
        text = t("ask_place", lg, n=len(view.photos))
        markup = ReplyKeyboardMarkup([[KeyboardButton(pick(BUTTONS["send_location"], lg), request_location=True)]],
                                     resize_keyboard=True, one_time_keyboard=True)
    elif view.step == EXIF:
        place = view.data["exif_place"]
        text = t("ask_exif", lg, lat=place["lat"], lon=place["lon"])
        markup = InlineKeyboardMarkup([[
            key("yes", lg, buttons.EXIF, True),
            key("no", lg, buttons.EXIF, False)]])
    elif view.step == CATEGORY:
        cats = list(core(context).settings.categories.values())
        tiles = [InlineKeyboardButton(c.name(lg), callback_data=buttons.CATEGORY.data(c.key)) for c in cats]
        rows = [tiles[i:i + 2] for i in range(0, len(tiles), 2)]
        markup = InlineKeyboardMarkup([*rows, [key("cancel", lg, buttons.CANCEL)]])
    elif view.step == DESCRIPTION:
        markup = InlineKeyboardMarkup([[key("skip", lg, buttons.SKIP_NOTE, True)]])
    elif view.step == CONFIRM:
        text, markup = summary(view, context), confirm_keyboard(lg)
    if note:
        text = f"{note}\n{text}"
    await msg.reply_text(text, reply_markup=markup)
    context.user_data.pop(OWED, None)  # asked: nothing owed (handlers/owed.py)


def summary(view: DraftView, context) -> str:
    lg, data = view.lang, view.data
    place = data["place"]
    where = " · ".join(x for x in (place.get("title"), place.get("address")) if x) or \
        f"{place['lat']:.5f}, {place['lon']:.5f}"
    category = core(context).settings.categories[data["category"]].name(lg)
    return t("summary", lg, category=category, n=len(view.photos), place=where,
             description=data.get("description") or "—")


def confirm_keyboard(lg: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[key("confirm", lg, buttons.CONFIRM)],
                                 [key("edit", lg, buttons.EDIT), key("cancel", lg, buttons.CANCEL)]])


async def refuse(update: Update, lg: str, error) -> None:
    await update.effective_message.reply_text(t(error.key, lg, **error.args_))


async def on_photo(update: Update, context: Context) -> None:
    msg, lg = update.effective_message, lang(update, context)
    if msg.chat.type == "private" and await checkin.on_photo(update, context):  # a photo on site, asked for
        return
    size = msg.photo[-1]
    await _add_photo(update, context, lg, size.file_id, size.file_unique_id, needs_strip=False,
                     announced=size.file_size)


async def on_document(update: Update, context: Context) -> None:
    msg, lg = update.effective_message, lang(update, context)
    doc = msg.document
    name = (doc.file_name or "").lower()
    if not ((doc.mime_type or "").startswith("image/") or name.endswith(IMAGE_SUFFIXES)):
        return await refuse(update, lg, MediaError("not_image"))
    await _add_photo(update, context, lg, doc.file_id, doc.file_unique_id, needs_strip=True,
                     announced=doc.file_size)


async def _add_photo(update, context, lg, file_id, unique_id, needs_strip: bool, announced: int | None) -> None:
    msg, user, c = update.effective_message, update.effective_user, core(context)
    draft = await c.intake.get_draft(user.id)
    if draft and len(draft.photos) >= c.settings.max_photos:  # no room: refused before any download
        return await refuse(update, lg, IntakeError("too_many_photos", n=c.settings.max_photos))
    try:
        stored = await store_photo(context, file_id, user.id, announced)
    except MediaError as exc:
        return await refuse(update, lg, exc)
    exif_place = gps_from_exif(stored.path) if needs_strip else None
    photo = {"file_id": file_id, "file_unique_id": unique_id, "sha256": stored.sha256,
             "width": stored.width, "height": stored.height, "needs_strip": needs_strip}
    try:
        view = await c.intake.add_photo(user.id, msg.chat_id, lg, photo, exif_place, caption=msg.caption)
    except IntakeError as exc:
        await context.bot_data.retention.forget([stored.sha256])  # kept for nothing
        return await refuse(update, lg, exc)
    # An album arrives as one update per photo: answer its first photo only.
    group = msg.media_group_id
    seen = context.user_data.setdefault("albums", [])
    if group and group in seen:
        return
    if group:
        seen[:] = [*seen[-9:], group]
    await prompt(update, view, context)


async def on_place(update: Update, context: Context) -> None:
    msg, user, lg = update.effective_message, update.effective_user, lang(update, context)
    venue = msg.venue
    loc = venue.location if venue else msg.location
    intent = await checkin.intent_of(context, msg.chat_id) if msg.chat.type == "private" else None
    if intent:  # a check-in on site was asked for (a prompt row: it survives a restart)
        return await checkin.on_location(update, context, intent)
    try:
        view = await core(context).intake.set_place(user.id, msg.chat_id, lg, loc.latitude, loc.longitude,
                                             "venue" if venue else "location",
                                             venue.title if venue else None, venue.address if venue else None)
    except IntakeError as exc:
        return await refuse(update, lg, exc)
    if msg.chat.type == "private":
        await msg.reply_text(t("place_set", lg), reply_markup=ReplyKeyboardRemove())
    await prompt(update, view, context)


async def on_text(update: Update, context: Context) -> None:
    msg, user, lg = update.effective_message, update.effective_user, lang(update, context)
    c = core(context)
    view = await c.intake.get_draft(user.id)
    asked = await prompts(context).open_prompt(msg.chat_id, "comment") if view is None else None
    if asked and await prompts(context).claim_prompt(asked.id):  # the text answers "any comment?" after a rating
        outcome = await c.disposal.comment_rating(asked.target_id, user.id, msg.text)
        return await msg.reply_text(t(outcome.key, lg))
    if view is None:
        return await msg.reply_text(t("start", lg, n=core(context).settings.max_photos))
    if view.step in (DESCRIPTION, CONFIRM):
        try:
            view = await core(context).intake.set_description(user.id, msg.chat_id, lg, msg.text)
        except IntakeError as exc:
            return await refuse(update, lg, exc)
    await prompt(update, view, context)


async def on_other(update: Update, context: Context) -> None:
    """Stickers, voice, video...: say what works, keep the draft."""
    user, lg = update.effective_user, lang(update, context)
    view = await core(context).intake.get_draft(user.id)
    hint = t("ask_" + view.step, lg) if view and view.step in (PHOTO, CATEGORY, DESCRIPTION) else \
        t("ask_place", lg, n=len(view.photos)) if view and view.step == PLACE else t("ask_photo", lg)
    await update.effective_message.reply_text(t("unsupported", lg, hint=hint))


@tap(buttons.CATEGORY, buttons.SKIP_NOTE, buttons.EXIF, buttons.EDIT, buttons.EDIT_PART, buttons.CANCEL,
     buttons.CONFIRM)
async def on_tap(update: Update, context: Context, tap: Tap) -> None:
    """Buttons in the private chat: category, skip, exif yes/no, confirm, edit, cancel."""
    query, user, lg, button = tap.query, tap.user, tap.lg, tap.button
    chat_id, c = tap.chat_id, core(context)
    try:
        if button is buttons.CATEGORY:
            view = await c.intake.set_category(user.id, chat_id, lg, tap.values[0])
        elif button is buttons.SKIP_NOTE:
            view = await c.intake.set_description(user.id, chat_id, lg, "")
        elif button is buttons.EXIF:
            view = await c.intake.answer_exif(user.id, chat_id, lg, tap.values[0])
        elif button is buttons.EDIT:
            await query.answer()
            parts = ("photos", "place", "details")
            rows = [[key("edit_" + p, lg, buttons.EDIT_PART, p)]
                    for p in parts]
            await edit_unless_same(query.edit_message_reply_markup(InlineKeyboardMarkup(rows)))
            return
        elif button is buttons.EDIT_PART:
            view = await c.intake.edit_draft(user.id, chat_id, lg, tap.values[0])
        elif button is buttons.CANCEL:
            await query.answer()
            gone = await c.intake.cancel_draft(user.id)
            await drop_buttons(query)
            await query.message.reply_text(t("cancelled" if gone else "nothing_to_cancel", lg))
            return
        else:  # confirm
            await c.intake.submit(user.id, chat_id, lg)
            await query.answer("✅")
            await drop_buttons(query)
            return
    except IntakeError as exc:
        await query.answer(t(exc.key, lg, **exc.args_), show_alert=exc.key != "stale")
        return
    if view.step == CONFIRM and view.data.get("fast"):  # a grid worker: the category tap files the case
        try:
            await c.intake.submit(user.id, chat_id, lg)
        except IntakeError as exc:
            return await query.answer(t(exc.key, lg, **exc.args_), show_alert=exc.key != "stale")
        await query.answer("✅")
        return await drop_buttons(query)
    await query.answer()
    if await c.intake.get_draft(user.id) is None:
        return
    await drop_buttons(query)  # one answer per question: the old buttons go
    await prompt(update, view, context)


async def drop_buttons(query) -> None:
    if query.message and getattr(query.message, "reply_markup", None):
        await edit_unless_same(query.edit_message_reply_markup(None))  # already gone after a double tap


async def my_cases(update: Update, context: Context) -> None:
    lg = lang(update, context)
    cases = await core(context).lifecycle.cases_of(update.effective_user.id)
    if not cases:
        return await update.effective_message.reply_text(t("no_cases", lg))
    cats = core(context).settings.categories
    lines = [t("my_cases", lg)] + [
        f"<code>{c.number}</code> · {cats[c.category].name(lg) if c.category in cats else c.category} · "
        f"{pick(STATES.get(c.state, (c.state, c.state)), lg)}" for c in cases]
    await update.effective_message.reply_text("\n".join(lines))


async def show_case(update: Update, context: Context) -> None:
    lg, c = lang(update, context), core(context)
    if len(context.args or []) != 1:
        return await update.effective_message.reply_text(t("case_usage", lg))
    case = await c.lifecycle.case_by_number(context.args[0])
    if case is None or case.reporter_id != update.effective_user.id:
        return await update.effective_message.reply_text(t("case_not_found", lg))
    tz = core(context).settings.tz
    lines = [f"<b>{case.number}</b> · {pick(STATES.get(case.state, (case.state, case.state)), lg)}"]
    if case.description:  # in full here: cards shorten what does not fit Telegram's limits
        lines.append(t("case_note", lg, note=case.description))
    for ev in await c.lifecycle.timeline(case.id):
        label = pick(EVENTS.get(ev.kind, (ev.kind, ev.kind)), lg)
        if "{street}" in label:
            label = label.format(street=street_name(c.settings, ev.data.get("street", ""), lg))
        lines.append(f"{ev.at.astimezone(tz):%m-%d %H:%M} {escape(label)}")
    if case.resolution_note:
        lines.append(t("case_resolution", lg, note=case.resolution_note))
    for text in chunks(lines):
        await update.effective_message.reply_text(text)


@tap(buttons.RATE)
async def on_rating(update: Update, context: Context, tap: Tap) -> None:
    query, user, lg = tap.query, tap.user, tap.lg
    case_id, rating, round_ = tap.values
    outcome = await core(context).disposal.rate(case_id, user.id, rating, round_)
    await query.answer(t(outcome.key, lg), show_alert=outcome.key == "old_round")
    if outcome.ok:
        await drop_buttons(query)
        skip = InlineKeyboardMarkup([[key("skip", lg, buttons.SKIP_COMMENT)]])
        asked = await query.message.reply_text(t("ask_comment", lg), reply_markup=skip)
        # the next text, if any, is the comment (the question is stored: a restart does not lose it)
        await prompts(context).save_prompt(asked.chat_id, asked.message_id, "comment", case_id, user.id)


@tap(buttons.SKIP_COMMENT)
async def on_skip_comment(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    asked = await prompts(context).prompt_at(query.message.chat_id, query.message.message_id)
    if asked and asked.kind == "comment":
        await prompts(context).claim_prompt(asked.id)
    await query.answer()
    await drop_buttons(update.callback_query)


@tap(buttons.WITHDRAW)
async def on_withdraw(update: Update, context: Context, tap: Tap) -> None:
    """The receipt's button: the same as /withdraw NUMBER, for the case the receipt is about."""
    c, case = core(context), await core(context).lifecycle.load_case(tap.values[0])
    if case is None or case.reporter_id != tap.user.id:
        return await tap.query.answer(t("stale", tap.lg))
    done = await Withdrawal(c.db, c.clock, c.settings, c.directory, c.outbox_written).withdraw(
        case.number, tap.user.id, tap.chat_id)
    await tap.query.answer(t(done.key, tap.lg, number=done.number), show_alert=True)
    if done.key in ("withdrawn", "withdraw_too_late"):  # either way the button has done its work
        await drop_buttons(tap.query)


async def withdraw(update: Update, context: Context) -> None:
    """/withdraw NUMBER: the reporter pulls back a report no street has accepted yet."""
    lg, c = lang(update, context), core(context)
    if len(context.args or []) != 1:
        return await update.effective_message.reply_text(t("withdraw_usage", lg))
    done = await Withdrawal(c.db, c.clock, c.settings, c.directory, c.outbox_written).withdraw(
        context.args[0], update.effective_user.id, update.effective_chat.id)
    await update.effective_message.reply_text(t(done.key, lg, number=done.number))

"""Checking in on site (报到 / 到场) in the private chat, from a card's deep link: a department's
call (`ci<call>`), the street's own people (`cs<case>`), a verifier (`cv<case>`). The intent is a
prompt row, so a restart between the link and the location loses nothing; what a location message
can prove is judged in cases/checkin.py."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from cases.checkin import live_verdict, refusal
from geo.distance import distance_m
from handlers.common import core, lang, prompts, store_photo
from handlers.context import Context
from handlers.taps import is_member
from storage.media import MediaError
from ui.ids import parse_id
from ui.texts import BUTTONS, pick, t

LINKS = {"ci": "call", "cs": "street", "cv": "verify"}


def onsite(context):
    return context.bot_data.onsite


def _group_of(context, what: str, case, call) -> int | None:
    """The group whose members may check in for this target."""
    c = core(context)
    if what == "call":
        return c.directory.department_chat(call.department) if call else None
    if what == "verify":
        return context.bot_data.verification.chat_for(case)
    return c.directory.owner_chat(case)


async def start(update: Update, context: Context, arg: str) -> None:
    msg, user, lg, c = update.effective_message, update.effective_user, lang(update, context), core(context)
    what, target_id = LINKS[arg[:2]], parse_id(arg[2:])  # checked by the caller
    case, call = await onsite(context).place_of(what, target_id)
    group = _group_of(context, what, case, call) if case else None
    if group is None or (what == "call" and call is None):
        return await msg.reply_text(t("stale", lg))
    if not await is_member(context, group, user.id):
        return await msg.reply_text(t("not_member" if what == "call" else "ci_not_member", lg))
    photo_first = c.settings.checkin_photo
    button = KeyboardButton(pick(BUTTONS["send_location"], lg), request_location=True)
    keyboard = None if photo_first else ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    text = t("ci_photo_ask" if photo_first else "checkin_ask", lg)
    if c.settings.checkin_live:
        text += "\n" + t("ci_live_hint", lg)
    asked = await msg.reply_text(text, reply_markup=keyboard)
    await prompts(context).save_prompt(msg.chat_id, asked.message_id, "checkin", target_id, user.id, {"what": what})


async def intent_of(context, chat_id: int):
    return await prompts(context).open_prompt(chat_id, "checkin")


async def on_photo(update: Update, context: Context) -> bool:
    """A photo on site, asked for before the location when disposal.checkin_photo is on. True when the
    photo was this check-in's (else it is a citizen's report photo)."""
    c = core(context)
    if not c.settings.checkin_photo:
        return False
    msg, lg = update.effective_message, lang(update, context)
    intent = await intent_of(context, msg.chat_id)
    if intent is None or intent.data.get("photo"):
        return False
    size = msg.photo[-1]
    try:
        stored = await store_photo(context, size.file_id, update.effective_user.id, size.file_size)
    except MediaError as exc:
        await msg.reply_text(t(exc.key, lg, **exc.args_))
        return True
    await onsite(context).note_intent(intent.id, photo={"file_id": size.file_id, "sha256": stored.sha256})
    button = KeyboardButton(pick(BUTTONS["send_location"], lg), request_location=True)
    await msg.reply_text(t("checkin_ask", lg), reply_markup=ReplyKeyboardMarkup([[button]], resize_keyboard=True,
                                                                                 one_time_keyboard=True))
    return True


async def on_location(update: Update, context: Context, intent) -> None:
    msg, lg, c = update.effective_message, lang(update, context), core(context)
    live = bool(msg.location and msg.location.live_period)
    why = refusal(c.settings, forwarded=msg.forward_origin is not None, venue=msg.venue is not None, live=live)
    if why:  # the check-in stays open: they can send their own location
        return await msg.reply_text(t(why, lg))
    if c.settings.checkin_photo and not intent.data.get("photo"):
        return await msg.reply_text(t("ci_photo_ask", lg))
    loc = msg.location
    if not live:
        return await finish(update, context, intent, loc.latitude, loc.longitude)
    metres = await _distance(context, intent, loc.latitude, loc.longitude)
    if metres > c.settings.checkin_radius_m:
        return await msg.reply_text(t("too_far", lg, m=round(metres), r=round(c.settings.checkin_radius_m)))
    await onsite(context).note_intent(intent.id, live={  # on probation: the check-in counts after a minute on site
        "message_id": msg.message_id, "since": c.now().isoformat(), "lat": loc.latitude, "lon": loc.longitude,
        "name": update.effective_user.full_name, "lang": lg})
    await msg.reply_text(t("ci_live_wait", lg, m=round(metres)))


async def on_live_update(update: Update, context: Context) -> None:
    """An edited live location: kept on site for its first minute, the check-in counts; left, it fails."""
    msg, lg, c = update.edited_message, lang(update, context), core(context)
    intent = await intent_of(context, msg.chat_id)
    live = intent.data.get("live") if intent else None
    if not live or live.get("message_id") != msg.message_id:
        return
    loc = msg.location
    metres = await _distance(context, intent, loc.latitude, loc.longitude)
    verdict = live_verdict(live, metres, c.settings.checkin_radius_m, c.now())
    if verdict == "left":
        await onsite(context).note_intent(intent.id, live=None)
        return await msg.reply_text(t("ci_live_left", lg, m=round(metres), r=round(c.settings.checkin_radius_m)))
    if verdict == "kept":
        return await finish(update, context, intent, loc.latitude, loc.longitude)
    await onsite(context).note_intent(intent.id, live={**live, "lat": loc.latitude, "lon": loc.longitude})


async def _distance(context, intent, lat: float, lon: float) -> float:
    case, call = await onsite(context).place_of(intent.data["what"], intent.target_id)
    place = call or case
    return distance_m(lat, lon, place.lat, place.lon)


async def finish(update: Update, context, intent, lat: float, lon: float) -> None:
    """The location counts: check in for what the deep link named, and say how it went."""
    msg, user, lg = update.effective_message, update.effective_user, lang(update, context)
    outcome = await complete(context, intent, user.id, user.full_name, lat, lon)
    await msg.reply_text(result_text(core(context), outcome, lg),
                         reply_markup=None if outcome.key == "too_far" else ReplyKeyboardRemove())


async def complete(context, intent, user_id: int, user_name: str, lat: float, lon: float):
    c = core(context)
    evidence = {k: v for k, v in (("photo", (intent.data.get("photo") or {}).get("sha256")),
                                  ("live", bool(intent.data.get("live")))) if v}
    what = intent.data["what"]
    if what == "call":
        outcome = await c.disposal.check_in(intent.target_id, user_id, user_name, lat, lon, evidence)
    elif what == "street":
        outcome = await onsite(context).street_check_in(intent.target_id, user_id, user_name, lat, lon, evidence)
    else:
        outcome = await context.bot_data.verification.on_site(
            intent.target_id, user_id, user_name, lat, lon, evidence)
    if outcome.key != "too_far":  # too far keeps the check-in open: they may walk closer and try again
        await prompts(context).claim_prompt(intent.id)
    return outcome


def result_text(c, outcome, lg: str) -> str:
    if outcome.key == "too_far":
        return t("too_far", lg, m=round(outcome.distance_m), r=round(c.settings.checkin_radius_m))
    return t("checked_in", lg, m=round(outcome.distance_m)) if outcome.ok else t(outcome.key, lg)


async def sweep_live(context: Context) -> None:
    """A phone standing still may send no update after the first minute: a live location whose last known
    place was on site a minute after it started counts then (a job every 15 s)."""
    c = core(context)
    for intent in await onsite(context).live_due():
        live = intent.data["live"]
        metres = await _distance(context, intent, live["lat"], live["lon"])
        if live_verdict(live, metres, c.settings.checkin_radius_m, c.now()) != "kept":
            continue
        outcome = await complete(context, intent, intent.asked_by, live.get("name", ""), live["lat"], live["lon"])
        await context.bot.send_message(intent.chat_id, result_text(c, outcome, live.get("lang", "zh")),
                                       reply_markup=ReplyKeyboardRemove())

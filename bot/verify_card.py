"""The verification card (核查卡片) for grid workers or the street: before and after photos, what was done,
and 📍 on site (deep link), ✅ done, ❌ not done."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto

from bot.delivery import Step
from storage.placed import CardPlaced, Sent
from ui import buttons
from ui.keys import key
from ui.texts import BUTTONS, pick, t


def verify_steps(renderer, chat_id: int, case) -> list:
    lang = renderer.lang
    before = [p for p in case.photos if p.stage == "before"][:1]
    after = [p for p in case.photos if p.stage == "after"][-1:]

    async def photos():
        msgs = await renderer.bot.send_media_group(chat_id, [InputMediaPhoto(renderer.photo_input(p))
                                                             for p in before + after])
        return [m.message_id for m in msgs]

    async def card():
        text = t("verify_card", lang, number=case.number, category=renderer.category_name(case.category, lang),
                 street=case.street or "—", handler=case.handler_name or "—", note=case.resolution_note or "—")
        text += "\n" + escape(renderer.place_raw(case)) + "\n" + escape(pick(("到场核查后再点 ✅ 或 ❌。",
                                                                         "Check in on site, then tap ✅ or ❌."), lang))
        keyboard = InlineKeyboardMarkup([
            [InlineKeyboardButton(pick(BUTTONS["verify_on_site"], lang),
                                  url=f"https://t.me/{renderer.bot.username}?start=cv{case.id}")],
            [key("verify_done", lang, buttons.VERIFY, case.id, True),
             key("verify_not_done", lang, buttons.VERIFY, case.id, False)]])
        msg = await renderer.bot.send_message(chat_id, text, reply_markup=keyboard)
        return Sent([msg.message_id], [CardPlaced(case.id, "verify", chat_id, msg.message_id, False)])
    return [Step("photos", photos), Step("card", card)]

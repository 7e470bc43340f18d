"""Telegram's limits whatever users type (caption 1,024, text 4,096), and a handed-back card's end."""

import re

from sqlalchemy import select

from emulator.html import parse_html
from emulator.images import jpeg
from storage.models import Outbox
from tests.test_disposal import STREET, answers
from ui.limits import CAPTION, chunks, fit_fields, fit_html, visible_len

NOTE = "井" * 470 + "<b>&amp;" + "x" * 2  # 480 characters as typed, with HTML-looking text
RESOLUTION = "补" * 590 + "<i>ok</i>"  # 600 characters as typed


def test_fit_html_cuts_visible_text_and_closes_tags():
    source = "<b>" + "a&amp;" * 600 + "</b>"
    fitted = fit_html(source, CAPTION)
    text, entities = parse_html(fitted)  # still valid HTML
    assert len(text) == CAPTION and text.endswith("…")
    assert entities[0]["type"] == "bold"
    assert fit_html("short <b>x</b>", CAPTION) == "short <b>x</b>"


def test_fit_fields_shortens_user_text_first_and_keeps_the_rest():
    def render(f):
        return f"<b>head</b>\nNote: {f['note']}\nDone: {f['done']}\nState: resolved"
    fitted = fit_fields(render, {"note": "n" * 800, "done": "d" * 600}, CAPTION)
    assert visible_len(fitted) <= CAPTION
    assert fitted.endswith("State: resolved") and "n…" in fitted


def test_chunks_split_long_timelines():
    lines = ["x" * 1000] * 9
    parts = chunks(lines)
    assert len(parts) == 3 and all(visible_len(p) <= 4096 for p in parts)


async def test_a_card_with_the_longest_note_and_resolution_is_still_edited(district):
    d, emu = district, district.emu
    citizen = d.citizen(8101)
    lat, lon = d.core.streets.representative_point(STREET)
    receipt = await d.report(citizen, jpeg(label="before"), lat, lon, note=NOTE)
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    chat = d.street_chat(STREET)
    card = await d.wait_button(chat, "接单")
    assert "井" * 400 in card["caption"]  # the whole note fits a fresh card
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "接单")
    await d.wait_button(chat, "办结")
    await emu.send_photo_reply(handler, chat, jpeg(label="after", color=(90, 140, 90)), caption=RESOLUTION,
                               reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")
    rows = await d.outbox_settled()
    assert [r.log for r in rows if r.status == "failed"] == []
    card = emu.message(chat, card["message_id"])
    assert not card.get("reply_markup"), "a resolved card keeps no Resolve/Call buttons"
    assert len(card["caption"]) <= CAPTION and "…" in card["caption"]
    assert "已办结" in card["caption"] and "补补补" in card["caption"]
    # the citizen's /case holds both texts in full
    n = len(emu.messages(citizen.id))
    await d.text(citizen, f"/case {number}")
    await emu.wait_for(lambda: any("处置情况" in (m.get("text") or "") for m in emu.messages(citizen.id)[n:]))
    shown = "\n".join(m.get("text") or "" for m in emu.messages(citizen.id)[n:])
    assert NOTE in shown and RESOLUTION in shown


async def test_a_handed_back_card_says_where_the_case_went_and_has_no_buttons(district):
    d, emu = district, district.emu
    citizen = d.citizen(8102)
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(citizen, jpeg(label="before"), lat, lon, note="路灯不亮")
    chat = d.street_chat(STREET)
    old = await d.wait_button(chat, "接单")
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "接单")
    await d.wait_button(chat, "办结")
    await d.tap_last(handler, chat, "非本辖区")
    prompt = await d.wait_text(chat, "为何不属于本辖区")
    await emu.send_text(handler, chat, "在鼓东街道一侧", reply_to_message_id=prompt["message_id"])
    command = d.cfg.command_center.chat_id
    await d.wait_button(command, "鼓东街道")
    q = await d.tap_last(d.staff[command][0], command, "鼓东街道")
    await answers(d, q)
    other = d.street_chat("鼓东街道")
    await d.wait_button(other, "接单")
    await d.outbox_settled()
    assert "现由 鼓东街道 处理" in emu.message(chat, old["message_id"])["caption"]
    await d.tap_last(d.handler_of("鼓东街道"), other, "接单")
    await d.wait_button(other, "办结")
    await d.outbox_settled()
    left = emu.message(chat, old["message_id"])
    assert "现由 鼓东街道 处理" in left["caption"]
    assert not left.get("reply_markup")
    assert d.handler_of("鼓东街道").first_name not in left["caption"]
    async with d.core.sessions() as s:
        assert not list(await s.scalars(select(Outbox).where(Outbox.status == "failed")))

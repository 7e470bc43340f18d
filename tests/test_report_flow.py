"""A citizen's report reaches the right street's group; the handler accepts it."""

import re

from sqlalchemy import func, select

from emulator.images import jpeg
from storage.models import Case, Deadline, Event, Photo

STREET = "温泉街道"


async def test_photo_first_report_reaches_the_street_group(district):
    d, emu = district, district.emu
    citizen = d.citizen(1001, "zh-hans", "Wang Fang")
    lat, lon = d.core.streets.representative_point(STREET)
    receipt = await d.report(citizen, jpeg(), lat, lon, category="道路破损", note="路面塌陷 <b>危险</b> & 急")

    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    assert number == "GL-20261123-0001"
    assert "已转交：温泉街道" in receipt["text"]
    # Deadlines as absolute local times: respond 10 min, on site 1 h, resolve 1 working day.
    assert "响应: 11-23 09:40" in receipt["text"]
    assert "到场: 11-23 10:30" in receipt["text"]
    assert "办结: 11-24 09:30" in receipt["text"]

    chat = d.street_chat(STREET)
    venue = await emu.wait_for(lambda: next((m for m in emu.messages(chat) if m.get("venue")), None))
    card = emu.messages(chat)[0]
    assert card["photo"], "the card carries the photo"
    caption = card["caption"]
    assert number in caption and "道路破损" in caption
    assert "路面塌陷 <b>危险</b> & 急" in caption, "user text is shown literally (escaped for HTML)"
    assert "Wang" not in caption and "citizen1001" not in caption and "1001" not in caption
    assert re.search(r"报告人: R-[0-9A-F]{12}", caption)
    assert "11-23 09:40" in caption
    assert card["reply_markup"]["inline_keyboard"][0][0]["text"].endswith("接单")
    assert venue["venue"]["title"] == STREET
    assert abs(venue["venue"]["location"]["latitude"] - lat) < 1e-6

    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.street, case.routed_by) == ("routed", STREET, "polygon")
        assert case.description == "路面塌陷 <b>危险</b> & 急"
        kinds = [e.kind for e in await s.scalars(select(Event).order_by(Event.id))]
        assert kinds == ["reported", "routed"]
        assert sorted(x.kind for x in await s.scalars(select(Deadline))) == ["checkin", "resolve", "respond"]
        photo = await s.scalar(select(Photo))
        assert (d.cfg.media.dir / f"{photo.sha256}.jpeg").exists(), "the original is kept, named by hash"


async def test_location_first_and_english(district):
    d, emu = district, district.emu
    citizen = d.citizen(1002, "en-GB", "Anna")
    lat, lon = d.core.streets.representative_point("鼓东街道")
    await emu.send_location(citizen, citizen.id, lat, lon)
    prompt = await d.wait_text(citizen.id, "Please send a photo")
    assert prompt
    await emu.send_photo(citizen, citizen.id, jpeg())
    await d.wait_button(citizen.id, "Garbage")
    await d.tap_last(citizen, citizen.id, "Garbage")
    await d.wait_button(citizen.id, "Skip")
    await d.tap_last(citizen, citizen.id, "Skip")
    summary = await d.wait_button(citizen.id, "Confirm")
    assert "Category: Garbage" in summary["text"] and "Photos: 1" in summary["text"]
    await d.tap_last(citizen, citizen.id, "Confirm")
    receipt = await d.wait_text(citizen.id, "Received, number")
    assert "Passed to: Gudong" in receipt["text"]  # streets[].name_en
    assert "resolve: 11-23 13:30" in receipt["text"]  # garbage: 4 hours
    chat = d.street_chat("鼓东街道")
    await emu.wait_for(lambda: emu.messages(chat))
    assert "垃圾堆放" in emu.messages(chat)[0]["caption"]


async def test_a_venue_is_a_place_too(district):
    d, emu = district, district.emu
    citizen = d.citizen(1003)
    lat, lon = d.core.streets.representative_point("南街街道")
    await emu.send_photo(citizen, citizen.id, jpeg())
    await d.wait_text(citizen.id, "请发送位置")
    await emu.send_venue(citizen, citizen.id, lat, lon, "三坊七巷", "南后街 1 号")
    await d.wait_button(citizen.id, "垃圾堆放")
    await d.tap_last(citizen, citizen.id, "垃圾堆放")
    await d.wait_button(citizen.id, "跳过")
    await d.tap_last(citizen, citizen.id, "跳过")
    summary = await d.wait_button(citizen.id, "确认")
    assert "三坊七巷 · 南后街 1 号" in summary["text"]
    await d.tap_last(citizen, citizen.id, "确认")
    await d.wait_text(citizen.id, "GL-")
    chat = d.street_chat("南街街道")
    card = await d.wait_text(chat, "三坊七巷")
    assert "南后街 1 号" in card["caption"]


async def test_accept_double_taps_outsiders_and_other_groups(district):
    d, emu = district, district.emu
    citizen = d.citizen(1004)
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(citizen, jpeg(), lat, lon)
    chat = d.street_chat(STREET)
    card = await d.wait_button(chat, "接单")
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    handler = d.handler_of(STREET)
    colleague = emu.user(6001, "Colleague", language_code="zh-hans")
    emu.add_member(chat, colleague)
    outsider = emu.user(6002, "Passer-by", language_code="zh-hans")

    q_out = await emu.tap(outsider, chat, card["message_id"], data)
    q1 = await emu.tap(handler, chat, card["message_id"], data)
    q2 = await emu.tap(handler, chat, card["message_id"], data)
    q3 = await emu.tap(colleague, chat, card["message_id"], data)
    other_chat = d.street_chat("鼓东街道")
    other = d.handler_of("鼓东街道")
    q4 = await emu.tap(other, other_chat, card["message_id"], data)  # forged: the card is not in that group
    await emu.wait_for(lambda: all(q in emu.callback_answers for q in (q_out, q1, q2, q3, q4)))

    assert "成员" in emu.callback_answers[q_out]["text"]
    assert emu.callback_answers[q1]["text"] == "接单成功，您是经办人。"
    assert emu.callback_answers[q2]["text"] == "您已接单。"
    assert emu.callback_answers[q3]["text"] == f"已被 {handler.first_name} 接单。"
    assert "成员" in emu.callback_answers[q4]["text"]

    notice = await d.wait_text(citizen.id, "已由温泉街道接单")
    assert notice
    edited = await emu.wait_for(lambda: (m := emu.messages(chat)[0]) and "已接单" in m["caption"] and m)
    assert f"已接单：{handler.first_name}" in edited["caption"]
    labels = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["✅ 办结", "📣 呼叫部门", "⏳ 延期", "❗ 疑难件", "↩️ 非本辖区", "📍 到场"], \
        "no stale Accept button"
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.handler_id) == ("accepted", handler.id)
        accepted = await s.scalar(select(func.count(Event.id)).where(Event.kind == "accepted"))
        assert accepted == 1
        respond = await s.scalar(select(Deadline).where(Deadline.kind == "respond"))
        assert respond.status == "met"
    notices = [m for m in emu.messages(citizen.id) if "接单" in (m.get("text") or "")]
    assert len(notices) == 1, "the citizen is told once"


async def test_a_429_on_a_direct_answer_is_waited_out_and_the_question_still_comes(district):
    d, emu = district, district.emu
    citizen = d.citizen(1011)
    emu.fail_next("sendMessage", status=429, retry_after=1)  # Telegram's flood control, on the next question
    await emu.send_photo(citizen, citizen.id, jpeg())
    await d.wait_text(citizen.id, "位置", timeout=5)
    tries = [c for c in emu.calls if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(citizen.id)]
    assert [c.response.get("error_code") for c in tries] == [429, None], "refused once, then sent once"
    assert tries[1].ts - tries[0].ts >= 1.0, "it waited retry_after"
    assert len(emu.messages(citizen.id)) == 1, "no error message in between"


async def test_a_5xx_on_a_direct_answer_is_sent_again_and_the_question_still_comes(district):
    d, emu = district, district.emu
    citizen = d.citizen(1012)
    emu.fail_next("sendMessage", status=502)  # Telegram had a bad moment on the next question
    await emu.send_photo(citizen, citizen.id, jpeg())
    await d.wait_text(citizen.id, "位置", timeout=5)
    tries = [c for c in emu.calls if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(citizen.id)]
    assert [c.response.get("error_code") for c in tries] == [502, None], "refused once, then sent once"
    assert len(emu.messages(citizen.id)) == 1, "no error message in between"


async def test_a_tap_whose_answer_fails_is_still_handled(district):
    """Telegram took the button's answer but replied 502, so the retry is refused ("query is too
    old"): the spinner was stopped all the same, and the tap's work must go on."""
    d, emu = district, district.emu
    citizen = d.citizen(1013)
    point = d.core.streets.representative_point("温泉街道")
    await emu.send_photo(citizen, citizen.id, jpeg())
    await d.wait_text(citizen.id, "位置", timeout=5)
    await emu.send_location(citizen, citizen.id, *point)
    await d.wait_button(citizen.id, "道路破损")
    emu.fail_after_send("answerCallbackQuery", status=502)
    await d.tap_last(citizen, citizen.id, "道路破损")
    await d.wait_button(citizen.id, "跳过")
    answers = [c.response.get("description") or "ok" for c in emu.calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 2 and "too old" in answers[1], answers
    await d.tap_last(citizen, citizen.id, "跳过")
    await d.wait_button(citizen.id, "✅")
    await d.tap_last(citizen, citizen.id, "✅")
    receipt = await d.wait_text(citizen.id, "GL-")
    assert "已受理" in receipt["text"]


async def test_what_handlers_reach_is_typed_and_wired(district):
    """Handlers read PTB's bot_data as handlers.context.Services: every name declared there is given by
    the wiring (a name declared and never given would fail a tap at run time, not here at start)."""
    from cases import Core
    from cases.prompts import Prompts
    from handlers.context import Services
    services = district.app.bot_data
    assert isinstance(services, Services)
    names = [n for n, v in vars(Services).items() if isinstance(v, property)]
    assert len(names) >= 9 and all(getattr(services, n) is not None for n in names)
    assert isinstance(services.core, Core) and isinstance(services.prompts, Prompts)
    assert services.config is district.cfg

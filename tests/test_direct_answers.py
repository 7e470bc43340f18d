"""Direct answers (the next question of a report) survive a 502: retried briefly, and when that is
not enough, asked again on the citizen's next message."""

from emulator.images import jpeg

STREET = "温泉街道"


def bad_gateways(emu, method: str) -> int:
    return len([c for c in emu.calls_to(method) if c.response.get("error_code") == 502])


async def test_one_502_on_each_intake_question_is_retried(district):
    d, emu = district, district.emu
    citizen, chat = d.citizen(7401), 7401
    lat, lon = d.core.streets.representative_point(STREET)
    emu.fail_next("sendMessage", status=502)  # "send the place"
    await emu.send_photo(citizen, chat, jpeg())
    assert await d.wait_text(chat, "请发送位置")
    emu.fail_next("sendMessage", status=502)  # "place recorded", then the category buttons
    await emu.send_location(citizen, chat, lat, lon)
    assert await d.wait_text(chat, "位置已记录")
    await d.wait_button(chat, "道路破损")
    for method in ("answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"):  # the tap's three answers
        emu.fail_next(method, status=502)
    await d.tap_last(citizen, chat, "道路破损")
    await d.wait_button(chat, "跳过")
    for method in ("answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"):
        emu.fail_next(method, status=502)
    await d.tap_last(citizen, chat, "跳过")
    await d.wait_button(chat, "确认")
    emu.fail_next("answerCallbackQuery", status=502)
    await d.tap_last(citizen, chat, "确认")
    assert await d.wait_text(chat, "已受理，编号", timeout=10)
    assert (bad_gateways(emu, "sendMessage"), bad_gateways(emu, "answerCallbackQuery"),
            bad_gateways(emu, "editMessageReplyMarkup")) == (4, 3, 2)


async def test_a_question_lost_to_repeated_502s_is_asked_again_on_the_next_message(district):
    d, emu = district, district.emu
    citizen, chat = d.citizen(7402), 7402
    await emu.send_photo(citizen, chat, jpeg())
    assert await d.wait_text(chat, "请发送位置")
    emu.fail_next("sendMessage", status=502, count=100)  # longer than the retries: the answer is lost
    await emu.send_location(citizen, chat, *d.core.streets.representative_point(STREET))
    await emu.wait_for(lambda: bad_gateways(emu, "sendMessage") >= 8, timeout=10)  # 4 tries, and 4 to say sorry
    await emu.wait_for(lambda: not emu.pending_updates)
    emu.clear_faults()
    assert not any("道路破损" in str(m.get("reply_markup")) for m in emu.messages(chat)), "no category buttons yet"
    n = len(emu.messages(chat))
    await emu.send_sticker(citizen, chat)  # the citizen, puzzled, sends anything
    ask = await d.wait_button(chat, "道路破损")
    assert "请选择问题类别" in ask["text"] and emu.messages(chat).index(ask) >= n
    await d.tap_last(citizen, chat, "道路破损")  # and the report goes on
    assert await d.wait_button(chat, "跳过")
    # asked once: a further message gets the usual answer, not the question again
    n = len(emu.messages(chat))
    await d.text(citizen, "路面塌了一块")
    await d.wait_button(chat, "确认")
    assert len([m for m in emu.messages(chat)[n:] if "请选择问题类别" in (m.get("text") or "")]) == 0

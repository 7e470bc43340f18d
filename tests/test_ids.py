"""Ids in button data and deep links are read in one place, with a range check: a 30-digit id is a
stale button, not an OverflowError from SQLite and "something went wrong"."""

import logging

from ui import buttons
from ui.ids import MAX_ID, parse_id, parse_int

HUGE = "9" * 30


def test_parse_int_takes_ascii_digits_within_range_only():
    assert parse_id("12") == 12 and parse_id(str(MAX_ID)) == MAX_ID
    for bad in ("0", str(MAX_ID + 1), HUGE, "9" * 40, "", "-1", "+1", " 1", "1.0", "²", "٣", "1e3", None):
        assert parse_id(bad) is None, bad
    assert parse_int("0") == 0 and parse_int("1000", high=999) is None
    assert buttons.ROUTE.read("r:12:0") == (12, 0) and buttons.ACCEPT.read(f"a:{HUGE}") is None
    assert buttons.ACCEPT.read("a:1:2") is None
    assert buttons.RATE.read("v:1:s") == (1, "satisfied", None)  # a button made before rounds: none
    assert buttons.RATE.read("v:1:s:2") == (1, "satisfied", 2)
    assert buttons.RATE.read(f"v:1:s:{HUGE}") is None
    assert buttons.RATE.read("v:1:s:2:x") is None


async def test_out_of_range_ids_in_taps_and_deep_links_are_stale_buttons(district, caplog):
    d, emu = district, district.emu
    caplog.set_level(logging.ERROR)
    citizen = d.citizen(7301)
    await d.text(citizen, "/start")
    await d.wait_text(citizen.id, "一线呼叫")
    mid = emu.messages(citizen.id)[0]["message_id"]
    street = d.street_chat("温泉街道")
    handler = d.handler_of("温泉街道")
    dept, staff = d.dept_chat("city_mgmt"), d.staff_of("city_mgmt")
    taps = [(citizen, citizen.id, f"v:{HUGE}:u"), (citizen, citizen.id, "v:²:u"),
            (citizen, citizen.id, f"v:1:u:{HUGE}"),
            (handler, street, f"a:{HUGE}"), (handler, street, f"R:{HUGE}:0"), (handler, street, f"K:{HUGE}:1:0"),
            (handler, street, f"T:{HUGE}:1:30"), (handler, street, f"E:c:{HUGE}:1h"), (handler, street, f"D:{HUGE}:s0"),
            (handler, street, "D:1:s" + HUGE), (handler, street, f"m:{HUGE}:g:0"), (staff, dept, f"Y:{HUGE}:0"),
            (staff, dept, f"A:{HUGE}"), (handler, street, f"W:{HUGE}")]
    queries = [await emu.tap(user, chat, mid if chat == citizen.id else 1, data) for user, chat, data in taps]
    await emu.wait_for(lambda: all(q in emu.callback_answers for q in queries), timeout=10)
    assert [emu.callback_answers[q].get("text") for q in queries] == ["这个按钮已失效。"] * len(taps)
    n = len(emu.messages(citizen.id))
    await d.text(citizen, "/start ci" + "9" * 40)
    assert (await d.wait_text(citizen.id, "按钮", after=n))["text"] == "这个按钮已失效。"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]

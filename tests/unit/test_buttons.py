"""The button protocol (ui/buttons.py): each button written and read back by the same declaration,
within Telegram's 64 bytes, forged data refused, and every button taken by a handler."""

import pytest

from ui import buttons
from ui.buttons import ALL, MAX_DEPARTMENTS

BIG = 2**31 - 1  # the largest row id
EXAMPLES = {  # the largest values each button carries
    "c": ("street_light_out",), "d": (True,), "g": (False,), "ok": (), "e": (), "x": (), "k": (),
    "v": (BIG, "unsatisfied", 999_999), "a": (BIG,), "R": (BIG, 999_999), "C": (BIG, 0, 0),
    "K": (BIG, 2**MAX_DEPARTMENTS - 1, 999), "T": (BIG, 2**MAX_DEPARTMENTS - 1, "typed"), "N": (BIG,),
    "W": (BIG,), "M": (BIG,), "E": ("onsite", BIG, "1wd"), "O": (BIG, 2**52), "r": (BIG, 999),
    "bd": (BIG, True), "Y": (BIG, 999_999), "Z": (BIG, 999_999), "D": (BIG, ("d", 999)), "A": (BIG,),
    "V": (BIG,), "X": (BIG,), "Q": (BIG,), "m": (BIG, "poor", 999_999), "n": (BIG, "inaccurate", 999_999),
    "vf": (BIG, False),
}


@pytest.mark.parametrize("button", ALL, ids=lambda b: f"{b.prefix}{len(b.fields)}")
def test_each_button_reads_back_what_it_wrote_within_64_bytes(button):
    values = EXAMPLES["e"] if button is buttons.EDIT else ("details",) if button is buttons.EDIT_PART \
        else EXAMPLES[button.prefix]
    data = button.data(*values)
    assert len(data.encode()) <= 64
    assert button.read(data) == values
    others = [b for b in ALL if b is not button and b.read(data) is not None]
    assert others == [], "one button per callback data"


def test_forged_or_malformed_data_reads_as_nothing():
    for data in ("a:", "a:0", "a:-1", "a:1.0", "a:²", "a:1:2", "A", "v:1:z:0", "v:1", "D:1:q3", "D:1:s",
                 "T:1:1:45", "E:x:1:1h", "E:c:1:2h", "bd:1:2", "c:a b", "ok:1", "e:lunch", "vf:1:yes"):
        assert [b.prefix for b in ALL if b.read(data) is not None] == [], data


def test_older_buttons_without_their_last_field_still_read():
    assert buttons.RESOLVE_HOW.read("R:5") == (5, None)  # made before cards carried their round
    assert buttons.CALL.read("C:5:0") == (5, 0, None)  # a picker before pages
    assert buttons.APPROVE.read("Y:7") == (7, None)


def test_every_button_has_a_handler():
    import bot.app  # noqa: F401 (imports every handler module, as the bot does)
    from handlers import taps
    assert taps.unhandled() == []
    patterns = [h.pattern for h in taps.TAPS]
    assert len(patterns) == len(set(patterns))

"""The button protocol (ui/buttons.py): each button written and read back by the same declaration,
within Telegram's 64 bytes, forged data refused, and every button taken by a handler."""

import pytest

from ui import buttons
from ui.buttons import ALL


@pytest.mark.parametrize("button", ALL, ids=lambda b: f"{b.prefix}{len(b.fields)}")
def test_each_button_reads_back_what_it_wrote_within_64_bytes(button):
    values = tuple(f.widest for f in button.fields)  # the longest data the button can carry
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

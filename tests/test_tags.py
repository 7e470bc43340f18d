"""Reporter tags: 48 bits (no collisions among a district's citizens), old 24-bit tags still readable."""

import re
from types import SimpleNamespace

from sqlalchemy import update

from cases.core import CoreBase
from emulator.images import jpeg
from storage.models import Case
from tests.test_disposal import STREET


def tag(user_id: int, secret: bytes = b"s3cret") -> str:
    return CoreBase.reporter_tag(SimpleNamespace(settings=SimpleNamespace(tag_secret=secret)), user_id)


def test_tags_are_48_bits_and_do_not_collide_among_many_citizens():
    tags = {tag(uid) for uid in range(100_000_000, 100_050_000)}
    assert len(tags) == 50_000  # 24 bits: ~75 pairs would share a tag
    assert all(re.fullmatch(r"R-[0-9A-F]{12}", t) for t in tags)


def test_an_old_tag_matches_the_same_citizens_new_one():
    new, other = tag(42), tag(43)
    old = new[:8]  # what a case stored before the change shows: R- and 6 hex digits
    assert CoreBase.same_reporter(old, new) and CoreBase.same_reporter(new, new)
    assert not CoreBase.same_reporter(old, other) and not CoreBase.same_reporter(new, other)
    assert not CoreBase.same_reporter("R-", new)


async def test_a_case_stored_with_an_old_tag_still_shows_it(district):
    d = district
    citizen = d.citizen(8201)
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(citizen, jpeg(label="old"), lat, lon, note="旧标签")
    chat = d.street_chat(STREET)
    card = await d.wait_button(chat, "接单")
    new = re.search(r"R-[0-9A-F]{12}", card["caption"]).group(0)
    await d.core.db.write(lambda s: s.execute(update(Case).values(reporter_tag=new[:8])))
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    shown = d.emu.message(chat, card["message_id"])["caption"]
    assert f"报告人: {new[:8]}\n" in shown

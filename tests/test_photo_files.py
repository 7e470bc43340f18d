"""Photos sent as files: their EXIF GPS is offered, and staff only ever see a copy without EXIF."""

import io

from PIL import Image
from sqlalchemy import select

from emulator.images import jpeg
from geo.exif import gps_from_exif
from storage.media import original_path
from storage.models import Photo


async def test_exif_gps_is_offered_and_staff_get_a_stripped_copy(district):
    d, emu = district, district.emu
    user = d.citizen(7001)
    lat, lon = d.core.streets.representative_point("东街街道")
    original = jpeg(label="exif", gps=(lat, lon))
    assert gps_from_exif(original) is not None
    await emu.send_document(user, user.id, original, "IMG_2041.JPG", "image/jpeg")
    ask = await d.wait_button(user.id, "使用")
    assert f"{lat:.5f}, {lon:.5f}" in ask["text"]
    await d.tap_last(user, user.id, "使用")
    await d.wait_button(user.id, "垃圾堆放")
    await d.tap_last(user, user.id, "垃圾堆放")
    await d.wait_button(user.id, "跳过")
    await d.tap_last(user, user.id, "跳过")
    summary = await d.wait_button(user.id, "确认")
    assert f"{lat:.5f}, {lon:.5f}" in summary["text"]
    await d.tap_last(user, user.id, "确认")
    chat = d.street_chat("东街街道")
    card = await d.wait_button(chat, "接单")
    shown = emu.file_bytes(card["photo"][-1]["file_id"])
    assert shown != original
    with Image.open(io.BytesIO(shown)) as img:
        assert not img.getexif(), "no EXIF at all (GPS, camera) in what staff see"
    await d.outbox_settled()
    async with d.core.sessions() as s:
        photo = await s.scalar(select(Photo))
        assert photo.needs_strip and photo.staff_file_id == card["photo"][-1]["file_id"]
        stored = original_path(d.cfg.media.dir, photo.sha256)
        assert stored.read_bytes() == original, "the original is kept as it came"


async def test_declining_exif_asks_for_the_place(district):
    d, emu = district, district.emu
    user = d.citizen(7002, "en")
    await emu.send_document(user, user.id, jpeg(gps=(26.08, 119.30)), "a.jpg", "image/jpeg")
    await d.wait_button(user.id, "Use it")
    await d.tap_last(user, user.id, "No")
    assert await d.wait_text(user.id, "Please send the place")


async def test_a_file_without_gps_asks_for_the_place(district):
    d, emu = district, district.emu
    user = d.citizen(7003)
    await emu.send_document(user, user.id, jpeg(), "plain.jpg", "image/jpeg")
    assert await d.wait_text(user.id, "请发送位置")

"""Personal data: originals no case uses are deleted at once, closed cases' photos after
media.keep_days (hashes stay in the trace); staff copies without comments; private file modes;
a citizen may withdraw a report no street has accepted."""

import io
import os
import re
import stat

from PIL import Image
from sqlalchemy import select, update

from emulator.images import jpeg
from storage.media import stripped_copy, tag_secret
from storage.models import Case, Event
from tests.test_disposal import STREET


def originals(d) -> list:
    return sorted(p.name for p in d.cfg.media.dir.iterdir() if p.is_file() and not p.name.startswith("."))


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def send_file_photo(d, user, label: str) -> None:
    n = len(d.emu.messages(user.id))
    lat, lon = d.core.streets.representative_point(STREET)
    await d.emu.send_document(user, user.id, jpeg(label=label, gps=(lat, lon)), f"{label}.jpg", "image/jpeg")
    await d.emu.wait_for(lambda: len(d.emu.messages(user.id)) > n)


async def test_a_cancelled_or_expired_draft_leaves_no_original(district, clock):
    d = district
    user = d.citizen(8501)
    await send_file_photo(d, user, "cancel-me")
    assert len(originals(d)) == 1
    await d.text(user, "/cancel")
    await d.wait_text(user.id, "已取消")
    assert originals(d) == [], "the original (with its GPS) goes with the draft"
    other = d.citizen(8502)
    await send_file_photo(d, other, "expire-me")
    assert len(originals(d)) == 1
    clock.advance(minutes=31)
    assert await d.core.intake.expire_drafts() == 1
    assert originals(d) == []


async def test_a_photo_refused_after_it_was_stored_leaves_no_original(district):
    d = district
    user = d.citizen(8508)
    far = jpeg(label="far", gps=(39.9, 116.4))  # its GPS is in Beijing: outside the district
    await d.emu.send_document(user, user.id, far, "far.jpg", "image/jpeg")
    assert await d.wait_text(user.id, "公里")
    assert originals(d) == []


async def test_closed_cases_lose_their_photos_after_keep_days_and_keep_the_hashes(district, clock):
    d = district
    lat, lon = d.core.streets.representative_point(STREET)
    same = jpeg(label="shared")
    await d.report(d.citizen(8503), same, lat, lon)
    await d.report(d.citizen(8504), same, lat, lon)  # the same picture in two cases: one file
    kept = originals(d)
    assert len(kept) == 1
    sha = kept[0].split(".")[0]
    retention = d.app.bot_data["retention"]
    async with d.core.sessions() as s:
        first, second = list(await s.scalars(select(Case).order_by(Case.id)))
    await d.core.db.write(lambda s: s.execute(update(Case).where(Case.id == first.id).values(
        state="closed", closed_at=clock.now())))
    clock.advance(days=d.cfg.media.keep_days - 1)
    assert await retention.purge_closed() == 0 and originals(d) == kept  # not yet
    clock.advance(days=2)
    assert await retention.purge_closed() == 0 and originals(d) == kept, "the open case still uses it"
    await d.core.db.write(lambda s: s.execute(update(Case).where(Case.id == second.id).values(
        state="closed", closed_at=clock.now())))
    clock.advance(days=d.cfg.media.keep_days + 1)
    assert await retention.purge_closed() == 1
    assert originals(d) == []
    async with d.core.sessions() as s:
        purged = list(await s.scalars(select(Event).where(Event.kind == "purged")))
        assert [e.data["sha256"] for e in purged] == [[sha], [sha]]
        assert all(c.media_purged_at for c in await s.scalars(select(Case)))
    assert "purge" in [j.name for j in d.app.job_queue.jobs()]


def test_staff_copies_lose_the_jpeg_comment_xmp_and_exif(tmp_path):
    img = Image.new("RGB", (64, 48), (10, 20, 30))
    exif = Image.Exif()
    exif[0x010F] = "DemoCam"
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><serial>XMP-SN-42</serial></x:xmpmeta>'
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"serial SN-42", xmp=xmp)
    original = tmp_path / "abc.jpeg"
    original.write_bytes(out.getvalue())
    assert b"SN-42" in original.read_bytes()
    copy = stripped_copy(original)
    data = copy.read_bytes()
    assert b"SN-42" not in data and b"DemoCam" not in data
    with Image.open(copy) as shown:
        assert "comment" not in shown.info and "xmp" not in shown.info and not shown.getexif()
    assert mode(copy) == 0o640


def test_the_tag_secret_is_created_private(tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)
    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)  # whatever the umask, the secret is never readable by others
    try:
        secret = tag_secret(tmp_path / "media")
    finally:
        os.umask(old)
    path = tmp_path / "media" / ".tag_secret"
    assert len(secret) == 64 and mode(path) == 0o600
    created = [(flags, m) for p, flags, m in opened if p == str(path)]
    assert created and created[0][1] == 0o600 and created[0][0] & os.O_EXCL, "0600 from the start"
    assert tag_secret(tmp_path / "media") == secret


async def test_media_files_are_not_readable_by_others(district):
    d = district
    lat, lon = d.core.streets.representative_point(STREET)
    user = d.citizen(8505)
    await send_file_photo(d, user, "modes")
    await d.tap_last(user, user.id, "使用")
    await d.wait_button(user.id, "垃圾堆放")
    await d.tap_last(user, user.id, "垃圾堆放")
    await d.wait_button(user.id, "跳过")
    await d.tap_last(user, user.id, "跳过")
    await d.wait_button(user.id, "确认")
    await d.tap_last(user, user.id, "确认")
    await d.wait_button(d.street_chat(STREET), "接单")
    await d.outbox_settled()
    files = [p for p in d.cfg.media.dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(files) == 2  # the original and the staff copy
    assert all(mode(p) == 0o640 for p in files)
    assert mode(d.cfg.media.dir) & 0o007 == 0


async def reported(d, user, label: str):
    """A report from `user` in STREET: its receipt, its number and the street's card (waiting to be accepted)."""
    lat, lon = d.core.streets.representative_point(STREET)
    receipt = await d.report(user, jpeg(label=label), lat, lon)
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    return receipt, number, await d.wait_button(d.street_chat(STREET), "接单")


async def test_a_citizen_withdraws_a_report_no_street_has_accepted(district):
    d, emu = district, district.emu
    user, chat = d.citizen(8506), d.street_chat(STREET)
    receipt, number, card = await reported(d, user, "withdraw")
    await d.text(d.citizen(8507), f"/withdraw {number}")  # not theirs: as if unknown
    assert await d.wait_text(8507, "没有找到")
    await d.text(user, f"/withdraw {number}")
    assert await d.wait_text(user.id, f"已撤回 {number}")
    await d.outbox_settled()
    shown = emu.message(chat, card["message_id"])
    assert "报告人已撤回" in shown["caption"] and not shown.get("reply_markup")
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert case.state == "withdrawn" and case.closed_at
        assert await s.scalar(select(Event).where(Event.kind == "withdrawn", Event.actor_id == user.id))
    # once a street has accepted, it is too late
    receipt, number, _ = await reported(d, user, "second")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    await d.text(user, f"/withdraw {number}")
    assert await d.wait_text(user.id, "无法撤回")


async def test_the_receipts_button_withdraws_until_a_street_accepts(district):
    d, emu = district, district.emu
    user, chat = d.citizen(8508), d.street_chat(STREET)
    receipt, number, card = await reported(d, user, "button")
    other = d.citizen(8509)  # someone else's tap with the same data changes nothing
    forged = await emu.tap(other, other.id, receipt["message_id"], receipt["reply_markup"]["inline_keyboard"][0][0]
                           ["callback_data"])
    await emu.wait_for(lambda: forged in emu.callback_answers)
    assert emu.callback_answers[forged]["text"] == "这个按钮已失效。"
    await d.tap_last(user, user.id, "撤回此件")
    # the button has done its work (dropped after the answer: the outbox may settle before it)
    await emu.wait_for(lambda: not emu.message(user.id, receipt["message_id"]).get("reply_markup"))
    await d.outbox_settled()
    shown = emu.message(chat, card["message_id"])
    assert "报告人已撤回" in shown["caption"] and not shown.get("reply_markup")
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case).where(Case.number == number))).state == "withdrawn"
    # accepted first: the button says it is too late, and goes
    receipt, number, _ = await reported(d, user, "accepted")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    query = await d.tap_last(user, user.id, "撤回此件")
    await emu.wait_for(lambda: query in emu.callback_answers)
    assert "无法撤回" in emu.callback_answers[query]["text"]
    await emu.wait_for(lambda: not emu.message(user.id, receipt["message_id"]).get("reply_markup"))
    # in English
    en = d.citizen(8510, lang="en")
    receipt = await d.report(en, jpeg(label="english"), *d.core.streets.representative_point(STREET),
                             category="Damaged road")
    assert receipt["reply_markup"]["inline_keyboard"][0][0]["text"] == "Withdraw it"

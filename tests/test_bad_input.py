"""Every bad input gets a clear reply in the user's language; the draft is kept; nothing crashes."""

import re

import pytest

from emulator.images import corrupt_jpeg, fake_heic, jpeg, png_bomb
from storage.models import Draft


async def draft_of(d, user_id):
    async with d.core.sessions() as s:
        draft = await s.get(Draft, user_id)
        return draft.data if draft else None


async def start_draft(d, user):
    lat, lon = d.core.streets.representative_point("鼓西街道")
    await d.emu.send_location(user, user.id, lat, lon)
    await d.wait_text(user.id, "请发一张现场照片")
    return lat, lon


@pytest.mark.parametrize("make, name, mime, expected", [
    (lambda: b"%PDF-1.4 not a picture", "report.pdf", "application/pdf", "这不是图片文件"),
    (lambda: corrupt_jpeg(), "broken.jpg", "image/jpeg", "图片已损坏"),
    (lambda: png_bomb(), "huge.png", "image/png", "像素过多"),
    (lambda: fake_heic(), "IMG_0001.HEIC", "image/heic", "HEIC"),
    (lambda: b"just text pretending", "photo.jpg", "image/jpeg", "这不是图片文件"),
])
async def test_bad_files_are_refused_and_the_draft_kept(district, make, name, mime, expected):
    d, emu = district, district.emu
    user = d.citizen(2001)
    lat, _ = await start_draft(d, user)
    n = len(emu.messages(user.id))
    await emu.send_document(user, user.id, make(), name, mime)
    reply = await d.wait_text(user.id, expected, after=n)
    assert reply
    data = await draft_of(d, user.id)
    assert data["place"]["lat"] == lat and not data.get("photos")
    # and the flow goes on with a good photo
    await emu.send_photo(user, user.id, jpeg())
    assert await d.wait_button(user.id, "垃圾堆放")


async def test_an_oversized_file_is_refused_before_download(district):
    d, emu = district, district.emu
    user = d.citizen(2002, "en-US")
    await emu.send_document(user, user.id, b"\xff\xd8" + b"\0" * (21 * 1024 * 1024), "big.jpg", "image/jpeg")
    reply = await d.wait_text(user.id, "too large (limit 20 MB)")
    assert reply
    assert not any(c.method == "getFile" for c in emu.calls)


async def test_text_sticker_voice_where_a_photo_is_expected(district):
    d, emu = district, district.emu
    user = d.citizen(2003)
    await start_draft(d, user)
    n = len(emu.messages(user.id))
    await d.text(user, "路灯坏了")
    await emu.send_sticker(user, user.id)
    await emu.send_voice(user, user.id)
    await emu.wait_for(lambda: len(emu.messages(user.id)) >= n + 3)
    replies = [m["text"] for m in emu.messages(user.id)[n:]]
    assert "请发一张现场照片" in replies[0]
    assert replies[1].startswith("暂时只能处理照片、位置和文字") and "请发一张现场照片" in replies[1]
    assert replies[2].startswith("暂时只能处理照片、位置和文字")
    assert (await draft_of(d, user.id))["place"]


async def test_a_place_in_the_sea_is_refused(district):
    d, emu = district, district.emu
    user = d.citizen(2004)
    await emu.send_photo(user, user.id, jpeg())
    await d.wait_text(user.id, "请发送位置")
    await emu.send_location(user, user.id, 25.6, 120.4)  # Taiwan Strait, ~80 km out
    reply = await d.wait_text(user.id, "不在服务范围内")
    assert "公里" in reply["text"]
    data = await draft_of(d, user.id)
    assert data["photos"] and not data.get("place")


async def test_more_than_five_photos(district):
    d, emu = district, district.emu
    user = d.citizen(2005)
    for i in range(6):
        n = len(emu.messages(user.id))
        await emu.send_photo(user, user.id, jpeg(label=f"p{i}"))
        await emu.wait_for(lambda n=n: len(emu.messages(user.id)) > n)
    assert "最多 5 张照片" in emu.last(user.id)["text"]
    assert len((await draft_of(d, user.id))["photos"]) == 5


async def test_album_gives_one_prompt_and_one_case_with_all_photos(district):
    d, emu = district, district.emu
    user = d.citizen(2006)
    for i in range(3):
        await emu.send_photo(user, user.id, jpeg(label=f"album {i}"), media_group_id="alb-1")
    await emu.send_location(user, user.id, *d.core.streets.representative_point("安泰街道"))
    await d.wait_button(user.id, "垃圾堆放")
    prompts = [m for m in emu.messages(user.id) if "请发送位置" in (m.get("text") or "")]
    assert len(prompts) == 1 and "收到 1 张照片" in prompts[0]["text"]
    assert len((await draft_of(d, user.id))["photos"]) == 3
    await d.tap_last(user, user.id, "垃圾堆放")
    await d.wait_button(user.id, "跳过")
    await d.tap_last(user, user.id, "跳过")
    summary = await d.wait_button(user.id, "确认")
    assert "照片：3 张" in summary["text"]
    await d.tap_last(user, user.id, "确认")
    chat = d.street_chat("安泰街道")
    card = await d.wait_button(chat, "接单")
    calls = [c for c in emu.calls if c.method == "sendMediaGroup"]
    assert len(calls) == 1 and len(emu.messages(chat)) >= 4  # 3 album photos + the card
    assert "诉求" in card["text"]


async def test_a_flood_of_reports_is_limited(district):
    d, emu = district, district.emu
    d.core.settings.max_cases_per_hour = 2
    user = d.citizen(2007)
    lat, lon = d.core.streets.representative_point("华大街道")
    await d.report(user, jpeg(label="1"), lat, lon)
    await d.report(user, jpeg(label="2"), lat, lon)
    await emu.send_photo(user, user.id, jpeg(label="3"))
    await d.wait_text(user.id, "请发送位置", after=len(emu.messages(user.id)) - 1)
    await emu.send_location(user, user.id, lat, lon)
    await d.wait_button(user.id, "道路破损")
    await d.tap_last(user, user.id, "道路破损")
    await d.wait_button(user.id, "跳过")
    await d.tap_last(user, user.id, "跳过")
    await d.wait_button(user.id, "确认")
    q = await d.tap_last(user, user.id, "确认")
    await emu.wait_for(lambda: q in emu.callback_answers)
    assert "一小时内最多提交 2 件" in emu.callback_answers[q]["text"]
    assert (await draft_of(d, user.id))["category"] == "road_damage", "the draft is kept"
    d.clock.advance(hours=1, minutes=1)
    q = await d.tap_last(user, user.id, "确认")
    assert await d.wait_text(user.id, "GL-20261123-0003")


async def test_help_cancel_and_stale_buttons_at_any_step(district):
    d, emu = district, district.emu
    user = d.citizen(2008)
    await emu.send_photo(user, user.id, jpeg())
    await d.wait_text(user.id, "请发送位置")
    await d.text(user, "/help")
    assert await d.wait_text(user.id, "怎么报告")
    assert (await draft_of(d, user.id))["photos"], "/help keeps the draft"
    await d.text(user, "/cancel")
    assert await d.wait_text(user.id, "已取消")
    assert await draft_of(d, user.id) is None
    q = await emu.tap(user, user.id, emu.messages(user.id)[0]["message_id"], "c:garbage")
    q2 = await emu.tap(user, user.id, emu.messages(user.id)[0]["message_id"], "zz:forged\u00e9")
    await emu.wait_for(lambda: q in emu.callback_answers and q2 in emu.callback_answers)
    assert emu.callback_answers[q]["text"] == "这个按钮已失效。"
    assert emu.callback_answers[q2]["text"] == "这个按钮已失效。"
    await d.text(user, "/cancel")
    assert await d.wait_text(user.id, "当前没有进行中的操作")


async def test_unexpected_updates_do_not_break_the_bot(district):
    d, emu = district, district.emu
    user = d.citizen(2009)
    sent = await d.text(user, "hello")
    await emu.send_raw_update({"edited_message": {**sent, "text": "hello again", "edit_date": sent["date"] + 1}})
    bot_user = {"id": 123456, "is_bot": True, "first_name": "Frontline"}
    await emu.send_raw_update({"my_chat_member": {
        "chat": {"id": -1009, "type": "group", "title": "x"}, "from": {"id": 7, "is_bot": False, "first_name": "A"},
        "date": sent["date"], "old_chat_member": {"status": "left", "user": bot_user},
        "new_chat_member": {"status": "member", "user": bot_user}}})
    await emu.send_text(d.handler_of("鼓东街道"), d.street_chat("鼓东街道"), "随便聊聊")
    await d.text(user, "/mycases")
    assert await d.wait_text(user.id, "您还没有提交过诉求")


async def test_an_abandoned_draft_expires_with_a_message(district):
    d, emu = district, district.emu
    user = d.citizen(2010)
    await emu.send_photo(user, user.id, jpeg())
    await d.wait_text(user.id, "请发送位置")
    job = d.app.job_queue.get_jobs_by_name("drafts")[0]
    await job.run(d.app)
    assert await draft_of(d, user.id) is not None
    d.clock.advance(minutes=31)
    await job.run(d.app)
    assert await d.wait_text(user.id, "30 分钟未操作，已自动取消")
    assert await draft_of(d, user.id) is None


async def test_mycases_and_case_timeline(district):
    d = district
    user = d.citizen(2011)
    stranger = d.citizen(2012)
    lat, lon = d.core.streets.representative_point("水部街道")
    receipt = await d.report(user, jpeg(), lat, lon)
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    await d.text(user, "/mycases")
    listing = await d.wait_text(user.id, "您的诉求")
    assert number in listing["text"] and "待接单" in listing["text"]
    await d.text(user, f"/case {number.lower()}")
    timeline = await d.wait_text(user.id, "提交诉求")
    assert "转交 水部街道" in timeline["text"]
    await d.text(stranger, f"/case {number}")
    assert await d.wait_text(stranger.id, "没有找到")

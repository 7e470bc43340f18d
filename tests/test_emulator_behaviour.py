"""The emulator models what Telegram does: group privacy mode, forward_origin, live and approximate
locations, restricted members, and (through the real bot) what grid groups need."""

from __future__ import annotations

import pytest
from telegram import ChatMemberRestricted, MessageOriginHiddenUser, MessageOriginUser
from telegram.error import BadRequest
from telegram.ext import ApplicationBuilder, CommandHandler, MessageHandler, filters

from emulator.images import jpeg
from emulator.server import BotApiEmulator
from tests.test_disposal import STREET
from tests.test_emulator import bot  # noqa: F401 - the fixture, with both HTTP clients

GROUP = -100777


def seconds(period) -> int:
    """PTB gives time periods as int or timedelta, depending on its settings."""
    return int(period.total_seconds()) if hasattr(period, "total_seconds") else int(period)


@pytest.fixture
async def emu():
    e = BotApiEmulator()
    await e.start()
    try:
        yield e
    finally:
        await e.stop()


@pytest.fixture
async def seen(emu):
    """An application that records every message and edited message it receives."""
    got: list = []

    async def record(update, context):
        got.append(update)
    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    app.add_handler(MessageHandler(filters.ALL, record))
    app.add_handler(CommandHandler("start", record))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield got
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_privacy_mode_hides_group_talk_from_a_bot_that_is_not_admin(emu, seen):
    wang = emu.user(2001, "Wang")
    emu.group(GROUP, "网格群", members=[wang])
    emu.set_bot_admin(GROUP, False)
    hidden = [await emu.send_text(wang, GROUP, "大家好"), await emu.send_photo(wang, GROUP, jpeg()),
              await emu.send_location(wang, GROUP, 26.08, 119.3), await emu.send_text(wang, GROUP, "/start@other_bot")]
    card = emu.api_sendMessage({"chat_id": GROUP, "text": "卡片"})  # the bot's own message
    shown = [await emu.send_text(wang, GROUP, "/start"), await emu.send_text(wang, GROUP, "/start@frontline_demo_bot"),
             await emu.send_text(wang, GROUP, "回复", reply_to_message_id=card["message_id"]),
             await emu.send_text(wang, GROUP, "@frontline_demo_bot 你好")]
    await emu.wait_for(lambda: len(seen) >= len(shown))
    got = [u.effective_message.message_id for u in seen]
    assert got == [m["message_id"] for m in shown] and not {m["message_id"] for m in hidden} & set(got)
    member = emu._member(emu.chats[GROUP], emu.bot.id)
    assert member["status"] == "member"
    emu.set_bot_admin(GROUP, True)  # an administrator sees everything
    talk = await emu.send_text(wang, GROUP, "现在看得到")
    await emu.wait_for(lambda: any(u.effective_message.message_id == talk["message_id"] for u in seen))


async def test_forwarded_messages_carry_their_origin(emu, seen):
    li, wang = emu.user(1001, "Li"), emu.user(1002, "Wang")
    original = await emu.send_location(wang, wang.id, 26.08, 119.3)
    await emu.forward(li, li.id, original)
    await emu.forward(li, li.id, original, hidden_name="Someone")
    await emu.wait_for(lambda: len(seen) >= 3)
    first, second = seen[1].message, seen[2].message
    assert isinstance(first.forward_origin, MessageOriginUser) and first.forward_origin.sender_user.id == wang.id
    assert first.location.latitude == 26.08
    assert isinstance(second.forward_origin, MessageOriginHiddenUser)
    assert second.forward_origin.sender_user_name == "Someone"
    assert seen[0].message.forward_origin is None


async def test_live_and_approximate_locations(emu, seen):
    li = emu.user(1001, "Li")
    live = await emu.share_location(li, li.id, 26.08, 119.3, live_period=900, horizontal_accuracy=25)
    await emu.share_location(li, li.id, 26.09, 119.31, horizontal_accuracy=1200)
    await emu.move_live_location(li, li.id, live["message_id"], 26.081, 119.301, horizontal_accuracy=8)
    await emu.wait_for(lambda: len(seen) >= 3)
    first, second, moved = seen
    location = first.message.location
    assert (seconds(location.live_period), location.horizontal_accuracy) == (900, 25.0)
    assert second.message.location.live_period is None and second.message.location.horizontal_accuracy == 1200.0
    assert moved.edited_message.location.latitude == 26.081 and moved.edited_message.location.horizontal_accuracy == 8
    with pytest.raises(ValueError):
        await emu.share_location(li, li.id, 26.08, 119.3, live_period=30)
    with pytest.raises(ValueError):
        await emu.move_live_location(li, li.id, second.message.message_id, 26.0, 119.0)


async def test_restricted_members_and_location_limits(emu, bot):  # noqa: F811
    wang, zhao = emu.user(2001, "Wang"), emu.user(2002, "Zhao")
    emu.group(GROUP, "街镇群", members=[wang, zhao])
    emu.restrict(GROUP, wang)
    emu.restrict(GROUP, zhao, is_member=False)
    staying, gone = await bot.get_chat_member(GROUP, wang.id), await bot.get_chat_member(GROUP, zhao.id)
    assert isinstance(staying, ChatMemberRestricted) and staying.is_member and not staying.can_send_messages
    assert isinstance(gone, ChatMemberRestricted) and not gone.is_member
    emu.set_bot_admin(GROUP, False)
    assert (await bot.get_chat_member(GROUP, emu.bot.id)).status == "member"
    assert emu.bot.id not in [m.user.id for m in await bot.get_chat_administrators(GROUP)]
    msg = await bot.send_location(wang.id, 26.08, 119.3, live_period=600, horizontal_accuracy=30)
    assert (seconds(msg.location.live_period), msg.location.horizontal_accuracy) == (600, 30.0)
    with pytest.raises(BadRequest, match="horizontal accuracy"):
        await bot.send_location(wang.id, 26.08, 119.3, horizontal_accuracy=2000)


async def test_a_grid_group_needs_the_bot_as_admin_a_street_group_does_not(district):
    """README: grid workers post photos and places (not replies), which privacy mode hides."""
    d, emu = district, district.emu
    grid = d.cfg.grids[0]
    worker = d.staff[grid.chat_id][0]
    emu.set_bot_admin(grid.chat_id, False)
    emu.set_bot_admin(d.street_chat(STREET), False)
    await emu.send_photo(worker, grid.chat_id, jpeg(label="grid"))
    assert await d.core.intake.get_draft(worker.id) is None, "the bot never saw the photo"
    emu.set_bot_admin(grid.chat_id, True)
    await emu.send_photo(worker, grid.chat_id, jpeg(label="grid2"))
    await emu.wait_for(lambda: len(emu.messages(grid.chat_id)) > 0)
    # a street group works in privacy mode: taps, commands and replies to the bot's cards reach it
    citizen = d.citizen(8601)
    lat, lon = d.core.streets.representative_point(STREET)
    await d.report(citizen, jpeg(label="street"), lat, lon)
    chat = d.street_chat(STREET)
    card = await d.wait_button(chat, "接单")
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "接单")
    await d.wait_button(chat, "办结")
    await emu.send_photo_reply(handler, chat, jpeg(label="after"), caption="已修复",
                               reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")


async def test_start_up_names_grid_groups_the_bot_cannot_read(district, caplog):
    d, emu = district, district.emu
    grid = d.cfg.grids[0]
    emu.set_bot_admin(grid.chat_id, False)
    with caplog.at_level("WARNING", logger="bot.privacy"):
        await d.restart_bot()
        await emu.wait_for(lambda: any(grid.name in r.getMessage() for r in caplog.records))
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.privacy"]
    assert len(warned) == 1 and "not an administrator" in warned[0]

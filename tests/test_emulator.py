"""The Bot API emulator, checked against the real python-telegram-bot (and raw HTTP where PTB hides the wire)."""

from __future__ import annotations

import asyncio
import time
import warnings

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.transport import AiohttpRequest
from emulator.images import jpeg
from emulator.server import BotApiEmulator

GROUP = -100123


@pytest.fixture
async def emu():
    e = BotApiEmulator()
    await e.start()
    try:
        yield e
    finally:
        await e.stop()


@pytest.fixture(params=["httpx", "aiohttp"])
async def bot(emu, request):
    """A bare PTB Bot on the emulator, for calls whose errors the test wants to see directly: once
    with PTB's own HTTP client, once with the bot's (bot/transport.py), which must behave alike."""
    transport = HTTPXRequest(read_timeout=2) if request.param == "httpx" else AiohttpRequest(read_timeout=2)
    b = Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, request=transport)
    async with b:
        yield b


async def echo(update, context):
    await update.message.reply_text(update.message.text)


async def photo_size(update, context):
    """Downloads the user's photo, as the real bot does, and says how big it was."""
    f = await context.bot.get_file(update.message.photo[-1].file_id)
    data = await f.download_as_bytearray()
    await update.message.reply_text(f"got {len(data)} bytes")


async def start(update, context):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok:1"),
                                      InlineKeyboardButton("Docs", url="https://example.org")]])
    await update.message.reply_text("<b>欢迎</b>", parse_mode="HTML", reply_markup=keyboard)


async def answer(update, context):
    query = update.callback_query
    await query.answer(f"tapped {query.data}")
    await query.edit_message_text(f"chose {query.data}")


@pytest.fixture
async def app(emu):
    application = (ApplicationBuilder().token(emu.token).base_url(emu.base_url)
                   .base_file_url(emu.base_file_url).build())
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(MessageHandler(filters.PHOTO, photo_size))
    application.add_handler(CallbackQueryHandler(answer))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def api(emu, method: str, token: str | None = None, **params) -> tuple[int, dict]:
    """A raw Bot API call with a JSON body."""
    async with aiohttp.ClientSession() as s, s.post(f"{emu.base_url}{token or emu.token}/{method}",
                                                    json=params) as r:
        return r.status, await r.json()


# ---- through a running Application --------------------------------------------------------------------
async def test_echo_round_trip(emu, app):
    u = emu.user(1001, "Li", language_code="zh-hans")
    sent = await emu.send_text(u, u.id, "[1, 2] 你好 & <b>")  # form values are not JSON-guessed
    reply = await emu.wait_for_message(u.id, contains="你好")
    assert reply["text"] == "[1, 2] 你好 & <b>"
    assert reply["from"]["is_bot"] and reply["from"]["username"] == "frontline_demo_bot"
    assert reply["chat"] == {"id": 1001, "type": "private", "first_name": "Li"}
    assert reply["message_id"] == sent["message_id"] + 1  # one counter per chat, users' and bot's
    assert emu.last(u.id) is reply and [c.method for c in emu.calls][:2] == ["getMe", "deleteWebhook"]


async def test_group_reply_quotes_the_users_message(emu, app):
    u2, u3 = emu.user(2002, "Wang"), emu.user(2003, "Zhao")
    emu.group(GROUP, "温泉街道", members=[u2, u3])
    sent = await emu.send_text(u2, GROUP, "收到")
    reply = await emu.wait_for_message(GROUP, "收到")
    assert reply["reply_to_message"]["message_id"] == sent["message_id"]  # PTB quotes in groups
    assert reply["chat"]["type"] == "supergroup"


async def test_command_keyboard_tap_answer_and_edit(emu, app):
    u = emu.user(1001, "Li")
    await emu.send_text(u, u.id, "/start")
    card = await emu.wait_for_message(u.id, "欢迎")
    assert card["text"] == "欢迎" and card["parse_mode"] == "HTML" and card["entities"][0]["type"] == "bold"
    buttons = card["reply_markup"]["inline_keyboard"][0]
    assert buttons[0]["callback_data"] == "ok:1" and buttons[1]["url"] == "https://example.org"
    qid = await emu.tap(u, u.id, card["message_id"], "ok:1")
    await emu.wait_for(lambda: qid in emu.callback_answers and card.get("edit_date"))
    assert emu.callback_answers[qid]["text"] == "tapped ok:1"
    assert card["text"] == "chose ok:1" and "reply_markup" not in card  # edited in place, keyboard gone
    assert card["edit_history"][0]["text"] == "欢迎"


async def test_the_bot_downloads_a_users_photo(emu, app):
    u = emu.user(1001, "Li")
    data = jpeg()
    sent = await emu.send_photo(u, u.id, data, caption="坑")
    assert sent["photo"][-1]["file_size"] == len(data) and sent["photo"][-1]["width"] == 640
    assert len({p["file_unique_id"] for p in sent["photo"]}) == len(sent["photo"])
    assert await emu.wait_for_message(u.id, f"got {len(data)} bytes")
    assert [c.method for c in emu.calls if c.method in ("getFile", "downloadFile")] == ["getFile", "downloadFile"]


# ---- a bare Bot: uploads, albums, edits --------------------------------------------------------------
async def test_photo_upload_reuse_and_download(emu, bot):
    u = emu.user(1001, "Li")
    data = jpeg(label="bot upload")
    msg = await bot.send_photo(u.id, data, caption="<i>现场</i>", parse_mode="HTML")
    file_id = msg.photo[-1].file_id
    assert msg.caption == "现场" and emu.file_bytes(file_id) == data
    again = await bot.send_photo(u.id, file_id)
    assert again.photo[-1].file_id == file_id and again.photo[-1].file_unique_id == msg.photo[-1].file_unique_id
    f = await bot.get_file(file_id)
    assert f.file_size == len(data) and bytes(await f.download_as_bytearray()) == data
    doc = await emu.send_document(u, u.id, b"%PDF", "a.pdf", "application/pdf")
    with pytest.raises(BadRequest, match="(?i)type of file mismatch"):
        await bot.send_photo(u.id, doc["document"]["file_id"])  # Telegram won't show a document as a photo
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(u.id, "no-such-file")


async def test_send_media_group(emu, bot):
    u = emu.user(1001, "Li")
    first, second = jpeg(label="1"), jpeg(label="2")
    msgs = await bot.send_media_group(u.id, [InputMediaPhoto(first, caption="<b>两张</b>", parse_mode="HTML"),
                                             InputMediaPhoto(second)])
    assert len(msgs) == 2 and msgs[0].media_group_id == msgs[1].media_group_id
    assert msgs[0].caption == "两张" and msgs[1].caption is None
    assert [emu.file_bytes(m.photo[-1].file_id) for m in msgs] == [first, second]
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_media_group(u.id, [InputMediaPhoto(first), InputMediaPhoto(second, caption="长" * 1025)])
    assert len(emu.messages(u.id)) == 2, "a refused album stores nothing"


async def test_edits_and_message_not_modified(emu, bot):
    u = emu.user(1001, "Li")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("接单", callback_data="a:1")]])
    msg = await bot.send_message(u.id, "v1", reply_markup=keyboard)
    edited = await bot.edit_message_text("v2", u.id, msg.message_id, reply_markup=keyboard)
    assert edited.text == "v2" and edited.edit_date
    stored = emu.last(u.id)
    assert stored["text"] == "v2" and [h["text"] for h in stored["edit_history"]] == ["v1"]
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("v2", u.id, msg.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(u.id, msg.message_id)  # no markup: the keyboard goes
    assert "reply_markup" not in stored and len(stored["edit_history"]) == 2
    with pytest.raises(BadRequest, match="(?i)no caption"):
        await bot.edit_message_caption(u.id, msg.message_id, caption="x")
    photo = await bot.send_photo(u.id, jpeg(), caption="c1")
    await bot.edit_message_caption(u.id, photo.message_id, caption="c2")
    assert emu.last(u.id)["caption"] == "c2"
    assert await bot.delete_message(u.id, photo.message_id)
    assert [m["text"] for m in emu.messages(u.id)] == ["v2"]
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_caption(u.id, photo.message_id, caption="c3")


# ---- validation ------------------------------------------------------------------------------------------
async def test_callback_data_over_64_bytes_is_refused(emu, bot):
    u = emu.user(1001, "Li")

    def keyboard(data):
        return InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])
    await bot.send_message(u.id, "ok", reply_markup=keyboard("接" * 21))  # 63 bytes
    for data in ("接" * 22, "a" * 65):  # 66 and 65 bytes
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(u.id, "too long", reply_markup=keyboard(data))
    assert len(emu.messages(u.id)) == 1


@pytest.mark.parametrize("text", ["<b>unclosed", "a < b", "AT&T", "<foo>x</foo>", "<b><i>x</b></i>", "</b>"])
async def test_malformed_html_is_refused(emu, bot, text):
    u = emu.user(1001, "Li")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(u.id, text, parse_mode="HTML")
    assert emu.messages(u.id) == []


async def test_well_formed_html_is_parsed(emu, bot):
    u = emu.user(1001, "Li")
    html = ('<b>粗</b> &lt;3 &amp; <a href="https://example.org">link</a> <tg-spoiler>s</tg-spoiler> '
            '<blockquote>q</blockquote> <pre><code class="language-python">x = 1</code></pre> <u>u</u> <s>s</s>')
    msg = await bot.send_message(u.id, html, parse_mode="HTML")
    assert msg.text == "粗 <3 & link s q x = 1 u s"
    kinds = {e.type for e in msg.entities}
    assert {"bold", "text_link", "spoiler", "blockquote", "pre", "code", "underline", "strikethrough"} <= kinds
    assert "a < b" == (await bot.send_message(u.id, "a < b")).text  # without parse_mode nothing is parsed


async def test_text_chat_and_caption_checks(emu, bot):
    u = emu.user(1001, "Li")
    for text, error in [("", "text is empty"), ("   ", "text is empty"), ("x" * 4097, "message is too long")]:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await bot.send_message(u.id, text)
    await bot.send_message(u.id, "字" * 4096)
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(u.id, jpeg(), caption="x" * 1025)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "who?")
    emu.block(u)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await bot.send_message(u.id, "hello?")
    assert len(emu.messages(u.id)) == 1


# ---- faults ------------------------------------------------------------------------------------------------
async def test_429_is_retry_after_without_side_effect(emu, bot):
    u = emu.user(1001, "Li")
    emu.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(u.id, "flood")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns about the int/timedelta transition
        assert caught.value.retry_after in (3, __import__("datetime").timedelta(seconds=3))
    assert emu.messages(u.id) == [] and emu.calls[-1].response["parameters"] == {"retry_after": 3}
    await bot.send_message(u.id, "later")
    assert [m["text"] for m in emu.messages(u.id)] == ["later"]


async def test_5xx_down_and_sent_but_failed(emu, bot):
    u = emu.user(1001, "Li")
    emu.fail_next(status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(u.id, "x")
        assert not isinstance(caught.value, BadRequest)
    assert emu.messages(u.id) == []
    emu.set_down(True)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_me()
    emu.set_down(False)
    emu.fail_after_send("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(u.id, "did it go?")
    assert [m["text"] for m in emu.messages(u.id)] == ["did it go?"]  # it did
    emu.delay_next("sendMessage", 3, then_timeout=True)  # longer than the bot's 2 s read timeout
    with pytest.raises(TimedOut):
        await bot.send_message(u.id, "timed out", read_timeout=0.3)
    assert emu.last(u.id)["text"] == "timed out"


@pytest.mark.parametrize("transport", [HTTPXRequest, AiohttpRequest])
async def test_nothing_listening_is_a_network_error(transport):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with Bot("1:X", base_url=f"http://127.0.0.1:{port}/bot", request=transport()).request as request:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot1:X/getMe")
    assert not isinstance(caught.value, TimedOut)


async def test_wrong_token_and_unknown_method(emu):
    status, body = await api(emu, "getMe", token="999:WRONG")
    assert status == 401 and body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body = await api(emu, "sendTelepathy")
    assert status == 404 and body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url):
            pass


# ---- getUpdates ----------------------------------------------------------------------------------------------
async def test_get_updates_offset_limit_and_long_poll(emu):
    u = emu.user(1001, "Li")
    for text in ("a", "b", "c"):
        await emu.send_text(u, u.id, text)
    _, body = await api(emu, "getUpdates")
    ids = [upd["update_id"] for upd in body["result"]]
    assert [upd["message"]["text"] for upd in body["result"]] == ["a", "b", "c"]
    _, body = await api(emu, "getUpdates", limit=1)
    assert [upd["update_id"] for upd in body["result"]] == ids[:1], "unconfirmed updates come again"
    _, body = await api(emu, "getUpdates", offset=ids[1])
    assert [upd["update_id"] for upd in body["result"]] == ids[1:]
    assert [upd["update_id"] for upd in emu.pending_updates] == ids[1:], "below the offset: confirmed, dropped"
    _, body = await api(emu, "getUpdates", offset=-1)
    assert [upd["update_id"] for upd in body["result"]] == ids[2:]
    _, body = await api(emu, "getUpdates", offset=ids[2] + 1, timeout=0)
    assert body["result"] == []
    started = time.monotonic()
    poll = asyncio.create_task(api(emu, "getUpdates", offset=ids[2] + 1, timeout=5))
    await asyncio.sleep(0.1)
    await emu.send_location(u, u.id, 26.08, 119.30)
    _, body = await poll
    assert body["result"][0]["message"]["location"] == {"latitude": 26.08, "longitude": 119.30}
    assert time.monotonic() - started < 1, "a long poll returns as soon as an update arrives"


async def test_a_newer_poll_terminates_an_older_one(emu):
    older = asyncio.create_task(api(emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    _, newer = await api(emu, "getUpdates", timeout=0)
    status, body = await older
    assert newer["ok"] and status == 409 and body["description"].startswith("Conflict")


# ---- chats, members, commands ---------------------------------------------------------------------------------
async def test_chats_members_and_commands(emu, bot):
    member, admin, outsider = emu.user(2002, "Wang"), emu.user(2003, "Zhao"), emu.user(2004, "Qian")
    emu.group(GROUP, "温泉街道", members=[member], admins=[admin])
    assert (await bot.get_chat(GROUP)).title == "温泉街道"
    assert (await bot.get_chat_member(GROUP, member.id)).status == "member"
    assert (await bot.get_chat_member(GROUP, admin.id)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, outsider.id)).status == "left"
    emu.add_member(GROUP, outsider)
    assert (await bot.get_chat_member(GROUP, outsider.id)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id for a in admins} == {emu.bot.id, admin.id}
    assert await bot.set_my_commands([("start", "开始"), ("help", "帮助")], language_code="zh")
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start", "help"]
    assert await bot.get_my_commands() == ()
    venue = await bot.send_venue(GROUP, 26.0, 119.3, "温泉街道", "福州市鼓楼区")
    assert venue.venue.title == "温泉街道" and emu.last(GROUP)["location"]["latitude"] == 26.0
    assert await bot.send_chat_action(GROUP, "typing")


# ---- observing ---------------------------------------------------------------------------------------------------
async def test_rates_and_wait_for_timeouts(emu, bot):
    u = emu.user(1001, "Li")
    emu.group(GROUP, "g", members=[u])
    for i in range(3):
        await bot.send_message(u.id, f"m{i}")
    await bot.send_message(GROUP, "g")
    assert emu.max_rate(u.id, window_s=60) == 3 and emu.max_rate(GROUP, 60) == 1
    assert emu.max_rate(None, 1.0) == 4
    with pytest.raises(AssertionError, match="recent bot calls:(.|\n)*sendMessage"):
        await emu.wait_for(lambda: False, timeout=0.1)
    assert len(await emu.wait_for_message(u.id, "m", count=3)) == 3


async def test_raw_updates_reach_the_bot(emu, app):
    u = emu.user(1001, "Li")
    sent = await emu.send_text(u, u.id, "hi")
    await emu.wait_for_message(u.id, "hi")
    upd = await emu.send_raw_update({"edited_message": {**sent, "text": "hi again", "edit_date": sent["date"] + 1}})
    await emu.wait_for(lambda: not any(p["update_id"] == upd["update_id"] for p in emu.pending_updates))
    await emu.send_text(u, u.id, "still here")
    assert await emu.wait_for_message(u.id, "still here")


async def test_the_bots_transport_goes_through_the_proxy_in_the_environment(emu, monkeypatch):
    """HTTPS_PROXY / HTTP_PROXY are honoured, as PTB's httpx client does: the emulator plays the proxy
    here (it answers a request whose target is an absolute URL on another host by its path)."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{emu.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    bot = Bot(emu.token, base_url="http://telegram.invalid/bot", request=AiohttpRequest())
    async with bot:  # initialize() asks getMe
        assert bot.username == emu.bot.username
    assert [c.method for c in emu.calls] == ["getMe"]
    monkeypatch.delenv("HTTP_PROXY")
    with pytest.raises(NetworkError):  # without the proxy the name does not resolve
        async with Bot(emu.token, base_url="http://telegram.invalid/bot", request=AiohttpRequest()):
            pass

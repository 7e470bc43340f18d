"""Issue 11: the token never in a log, trace or error message; SOCKS proxies (bot/transport.py, bot/redact.py)."""

from __future__ import annotations

import copy
import logging
import socket
import traceback

import pytest
from telegram import Bot, User
from telegram.error import TimedOut
from telegram.ext import ExtBot

from bot.app import build_application
from bot.transport import AiohttpRequest
from emulator.server import BotApiEmulator

from .socks5 import Socks5Server

TOKEN = "7234567890:AAFq3xZ-secret_part_of_the_token_9876"
SECRET = TOKEN.split(":")[1]


@pytest.fixture
def hanging_port():
    """A loopback port whose accept queue is full: a connect to it hangs (SYNs are dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    yield port
    for s in (*fillers, server):
        s.close()


async def test_a_connect_timeout_leaves_no_token_in_logs_or_errors(cfg, hanging_port, caplog, monkeypatch):
    cfg = copy.deepcopy(cfg)
    cfg.telegram.base_url = f"http://127.0.0.1:{hanging_port}/bot"
    cfg.telegram.connect_timeout = 0.2

    async def get_me(self, *args, **kwargs):  # start-up's getMe would hang too: the updater is what we test
        self._bot_user = User(int(TOKEN.split(":")[0]), "Frontline", True, username="frontline_bot")
        return self._bot_user
    monkeypatch.setattr(ExtBot, "get_me", get_me)
    caplog.set_level(logging.DEBUG)
    app = build_application(cfg, TOKEN)
    await app.initialize()
    try:
        # PTB's updater: its start-up deleteWebhook times out; with no retries it logs the trace and raises.
        with pytest.raises(TimedOut) as caught:
            await app.updater.start_polling(timeout=0, bootstrap_retries=0)
        err = caught.value
        # The application's error handler logs what a handler raised, with its trace.
        await app.process_error(None, err)
    finally:
        await app.shutdown()
    trace = "".join(traceback.format_exception(err))
    assert "Timed out" in str(err) and "Connection timeout" in trace
    assert SECRET not in trace and SECRET not in repr(err)
    logged = caplog.text
    assert "Exception happened" in logged or "Aborting" in logged  # the updater's trace is there…
    assert "error while handling an update" in logged  # …and the error handler's
    assert "Connection timeout" in logged
    assert SECRET not in logged
    for record in caplog.records:
        assert SECRET not in record.getMessage()


async def test_the_transport_error_holds_no_url(hanging_port):
    req = AiohttpRequest(connect_timeout=0.2)
    await req.initialize()
    try:
        with pytest.raises(TimedOut) as caught:
            await req.do_request(f"http://127.0.0.1:{hanging_port}/bot{TOKEN}/getUpdates", "POST")
    finally:
        await req.shutdown()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert SECRET not in str(caught.value)


async def test_a_token_in_any_log_record_is_redacted(caplog, cfg):
    build_application(cfg, "not-shaped-like-a-token-but-secret")  # registered as a secret too
    log = logging.getLogger("frontline.test")
    try:
        raise RuntimeError(f"GET /bot{TOKEN}/getMe failed")
    except RuntimeError:
        log.exception("call failed: %s", f"https://api.telegram.org/bot{TOKEN}/x")
    log.warning("config says %s", "not-shaped-like-a-token-but-secret")
    assert SECRET not in caplog.text and "<token>" in caplog.text
    assert "not-shaped-like-a-token-but-secret" not in caplog.text


@pytest.mark.parametrize("how", ["config", "environment"])
async def test_bot_api_calls_go_through_a_socks5_proxy(how, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    try:
        async with Socks5Server() as socks:
            if how == "environment":
                monkeypatch.setenv("ALL_PROXY", socks.url)
            request = AiohttpRequest(proxy=socks.url if how == "config" else None)
            bot = Bot(TOKEN, base_url=emu.base_url, request=request, get_updates_request=AiohttpRequest())
            async with bot:
                me = await bot.get_me()
                await bot.send_message(emu.user(7001).id, "via SOCKS")
            assert me.id == emu.bot.id
            assert socks.connects and set(socks.connects) == {("127.0.0.1", emu.port)}
            assert emu.messages(7001)[-1]["text"] == "via SOCKS"
    finally:
        await emu.stop()


async def test_socks5h_resolves_names_at_the_proxy():
    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    try:
        async with Socks5Server() as socks:
            request = AiohttpRequest(proxy=f"socks5h://127.0.0.1:{socks.port}")
            bot = Bot(TOKEN, base_url=f"http://localhost:{emu.port}/bot", request=request,
                      get_updates_request=AiohttpRequest())
            async with bot:
                await bot.get_me()
            assert ("localhost", emu.port) in socks.connects  # the name, not an address, went to the proxy
    finally:
        await emu.stop()


async def test_a_photo_download_streams_through_the_socks_proxy_too(tmp_path, monkeypatch):
    """Photos are fetched by the bot's own streaming download (bot/uploads.py): it takes the same
    route as API calls, so a SOCKS proxy is used for them, not handed to aiohttp as an HTTP proxy."""
    from aiohttp import web
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    body = bytes(range(256)) * 1024
    app = web.Application()

    async def photo(request):
        return web.Response(body=body)
    app.router.add_get("/file/photo.jpg", photo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with Socks5Server() as socks:
            request = AiohttpRequest(proxy=socks.url)
            await request.initialize()
            try:
                size = await request.stream_to(f"http://127.0.0.1:{port}/file/photo.jpg", tmp_path / "p.part",
                                               1 << 20)
            finally:
                await request.shutdown()
            assert size == len(body) and (tmp_path / "p.part").read_bytes() == body
            assert ("127.0.0.1", port) in socks.connects
    finally:
        await runner.cleanup()

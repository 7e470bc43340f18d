"""Webhook mode: the emulator POSTs updates to the bot as Telegram does (the secret token, retries)."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.app import build_application, start_bot
from bot.config import ConfigError
from demo.district import District
from emulator.images import jpeg

SECRET = "s3cret-Token_1"


@pytest.fixture
async def hooked(cfg, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    cfg.telegram.mode = "webhook"
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d


async def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as s, s.post(url, data=json.dumps(update), headers=headers) as r:
        return r.status


def _start_update(update_id: int, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Wang"}
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1764000000, "chat": {"id": user_id, "type": "private", "first_name": "Wang"},
        "from": user, "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


async def test_a_report_through_the_webhook(hooked):
    d = hooked
    hook = d.emu.calls_to("setWebhook")[-1].params
    assert hook["url"] == d.cfg.webhook.url and hook["secret_token"] == SECRET
    assert hook["drop_pending_updates"] is False, "what was sent while the bot was down is kept"
    citizen = d.citizen(7101)
    receipt = await d.report(citizen, jpeg(), *d.core.streets.representative_point("温泉街道"))
    assert "GL-" in receipt["text"]
    await d.wait_button(d.street_chat("温泉街道"), "接单")
    assert not d.emu.calls_to("getUpdates"), "no polling in webhook mode"
    assert d.emu.pusher.log and all(status == 200 for _, _, status in d.emu.pusher.log)


async def test_requests_without_the_right_secret_are_refused(hooked):
    d = hooked
    d.citizen(7102)
    url = d.app.bot_data["web"].url
    assert await _post(url, _start_update(900001, 7102), None) == 403
    assert await _post(url, _start_update(900002, 7102), "wrong") == 403
    assert await _post(url, _start_update(900003, 7102), SECRET) == 200
    await d.emu.wait_for(lambda: d.emu.messages(7102))
    assert len(d.emu.messages(7102)) == 1, "only the update with the secret was handled"


async def test_a_redelivered_update_is_handled_once(hooked):
    d = hooked
    d.citizen(7103)
    url = d.app.bot_data["web"].url
    assert await _post(url, _start_update(900010, 7103), SECRET) == 200
    assert await _post(url, _start_update(900010, 7103), SECRET) == 200  # Telegram retried: no-op
    assert await _post(url, _start_update(900011, 7103), SECRET) == 200
    await d.emu.wait_for(lambda: len(d.emu.messages(7103)) >= 2)
    assert len(d.emu.messages(7103)) == 2
    assert d.app.bot_data["gate"].duplicates == 1


async def test_updates_sent_while_the_bot_was_down_arrive_after_it_is_back(hooked):
    d = hooked
    await d.stop_bot()
    citizen = d.citizen(7104)
    await d.emu.send_text(citizen, citizen.id, "/start")  # Telegram keeps it: the webhook is still set
    await d.emu.send_text(citizen, citizen.id, "/help")
    await d.start_bot()
    replies = await d.emu.wait_for_message(citizen.id, count=2)
    assert len(replies) == 2
    await d.emu.wait_for(lambda: not d.emu.pending_updates)  # both answered 200 at last


async def test_webhook_mode_needs_a_secret(cfg, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET_TOKEN", raising=False)
    cfg.telegram.mode = "webhook"
    d = District(cfg, tmp_path, clock=clock)

    async def by_hand():
        pass
    d.start_bot = by_hand
    await d.start()
    try:
        d.app = build_application(d.cfg, d.emu.token, clock=clock)
        with pytest.raises(ConfigError, match="WEBHOOK_SECRET_TOKEN"):
            await start_bot(d.app)
        assert not d.emu.calls_to("setWebhook") and not d.emu.calls_to("getUpdates")
    finally:
        await d.stop()


def test_webhook_mode_needs_a_url(tmp_path):
    from tests.conftest import ROOT
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("telegram:\n", "telegram:\n  mode: webhook\n", 1)
    for name in ("gulou_streets.geojson", "gulou_grids.geojson"):
        text = text.replace(f"data/{name}", str(ROOT / "data" / name))
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    from bot.config import load_config
    with pytest.raises(ConfigError, match="webhook.url is required"):
        load_config(tmp_path / "c.yaml")


async def test_the_emulator_refuses_polling_while_a_webhook_is_set(hooked):
    from telegram.error import Conflict
    with pytest.raises(Conflict, match="webhook is active"):
        await hooked.app.bot.get_updates(timeout=0)


async def test_handled_update_ids_are_forgotten_after_two_days(hooked):
    d = hooked
    d.citizen(7105)
    gate = d.app.bot_data["gate"]
    assert await _post(d.app.bot_data["web"].url, _start_update(900020, 7105), SECRET) == 200
    assert await gate.seen(900020)
    assert await gate.sweep() == 0
    d.clock.advance(days=2, minutes=1)
    assert await gate.sweep() >= 1 and not await gate.seen(900020)
    assert d.app.job_queue.get_jobs_by_name("handled-updates")

"""GET /healthz and GET /metrics, and the logs' format."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import health, logs
from demo.district import District
from emulator.images import jpeg
from storage.models import ServiceState
from storage.outbox import enqueue


@pytest.fixture
async def watched(cfg, clock, tmp_path):
    cfg.monitoring.port = 0  # polling mode, with the monitoring server on a free port
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d


async def _get(d, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(d.app.bot_data["web"].base + path) as r:
        return r.status, await r.text()


async def _deadline_pass_ran(d) -> None:
    async def ran():
        async with d.core.sessions() as s:
            return await s.get(ServiceState, health.DEADLINES)
    for _ in range(100):
        if await ran():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the deadline pass never recorded its run")


def _metrics(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


async def test_healthz_is_200_when_all_is_well_and_503_with_the_reason(watched):
    d = watched
    await _deadline_pass_ran(d)  # the catch-up pass runs at start
    status, body = await _get(d, "/healthz")
    checks = json.loads(body)["checks"]
    assert status == 200, body
    assert checks["database"]["ok"] and checks["bot_api"]["ok"] and checks["outbox"]["oldest_pending_s"] == 0
    assert checks["deadlines"]["last_run_s_ago"] == 0

    d.clock.advance(minutes=6)  # no deadline pass for 6 minutes (the fake clock moved, the jobs did not run)
    status, body = await _get(d, "/healthz")
    assert status == 503 and json.loads(body)["checks"]["deadlines"] == {"ok": False, "last_run_s_ago": 360.0}


async def test_healthz_reports_an_old_unsent_outbox_row_and_an_unreachable_bot_api(watched):
    d = watched
    await _deadline_pass_ran(d)
    await d.app.bot_data["delivery"].stop()  # nothing is sent any more
    await d.core.db.write(lambda s: enqueue(s, d.clock.now() - timedelta(minutes=20), 4242, "notice",
                                            key="help", lang="zh", args={}))
    d.emu.set_down(True)
    health.LAST_BOT_API_OK["at"] = 0.0  # no recent answer: the check asks getMe, which fails
    status, body = await _get(d, "/healthz")
    checks = json.loads(body)["checks"]
    assert status == 503
    assert checks["outbox"] == {"ok": False, "oldest_pending_s": 1200.0}
    assert checks["bot_api"] == {"ok": False} and checks["database"] == {"ok": True}
    d.emu.set_down(False)


async def test_metrics_in_prometheus_format(watched):
    d = watched
    status, before = await _get(d, "/metrics")
    assert status == 200
    errors_before = _metrics(before).get(("frontline_bot_api_errors_total", (("kind", "5xx"),)), 0)
    await d.report(d.citizen(7201), jpeg(), *d.core.streets.representative_point("温泉街道"))
    d.emu.fail_next("sendMessage", status=502)
    await d.emu.send_text(d.citizen(7201), 7201, "/help")
    await d.emu.wait_for(lambda: len([c for c in d.emu.calls_to("sendMessage") if c.ok]) > 0
                         and any(not c.ok for c in d.emu.calls_to("sendMessage")))
    await d.outbox_settled()
    status, text = await _get(d, "/metrics")
    m = _metrics(text)
    assert m[("frontline_reports_total", ())] == 1
    assert m[("frontline_cases", (("state", "routed"),))] == 1
    assert m[("frontline_outbox_pending", ())] == 0
    assert m[("frontline_outbox_failed", ())] == 0
    assert m[("frontline_deadline_lag_seconds", ())] == 0
    assert m[("frontline_bot_api_errors_total", (("kind", "5xx"),))] == errors_before + 1
    assert m[("frontline_bot_api_request_seconds_count", (("method", "sendPhoto"),))] >= 1
    assert "123456:TEST-TOKEN" not in text


def test_json_logs_one_line_per_event_without_the_token(capsys):
    token = "123456:SECRET-token"
    handler = logs.setup("json", secrets=[token])
    try:
        log = logging.getLogger("bot.test")
        log.info("calling https://api.telegram.org/bot%s/getMe", token)
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            log.exception("it failed")
        logging.getLogger("apscheduler.executors.default").info('Running job "fire_deadlines"')
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        logging.getLogger().removeHandler(handler)
    assert len(lines) == 2, lines  # the traceback inside its event's line; APScheduler's INFO left out
    first, second = (json.loads(x) for x in lines)
    assert first["msg"] == "calling https://api.telegram.org/bot<redacted>/getMe" and first["level"] == "INFO"
    assert second["msg"] == "it failed" and "ValueError: boom" in second["exc"]
    assert token not in "".join(lines)


def test_logs_name_no_private_chat():
    assert logs.chat_label(-1001234) == "-1001234"
    assert logs.chat_label(7201) == "a private chat"

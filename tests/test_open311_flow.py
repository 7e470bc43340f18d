"""A hotline's case from the API to the street group and back: every change of state reaches the
hotline's callback, signed and in order; its 回访 by phone has the effect of a citizen's tap; an
address-only case waits for the command centre to place it; the API keeps taking cases while the
Bot API is down."""

import asyncio
import hashlib
import hmac
import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Case, Event, Outbox
from storage.outbox import CHANNEL_CHAT, enqueue
from tests.open311 import KEY, STREET, get, hotline_district, post
from tests.test_disposal import answers, call, check_in


@pytest.fixture
async def d(cfg, tmp_path, clock, monkeypatch):
    async with hotline_district(cfg, tmp_path, clock, monkeypatch) as district:
        yield district


async def wait_events(d, expected: list[str], timeout: float = 10.0) -> list[str]:
    for _ in range(int(timeout / 0.05)):
        if len(d.receiver.events()) >= len(expected):
            break
        await asyncio.sleep(0.05)
    return d.receiver.events()


def card_of(d, chat: int, number: str) -> dict:
    return next(m for m in d.emu.messages(chat) if number in (m.get("caption") or m.get("text") or ""))


async def test_hotline_case_through_the_street_and_every_state_back_to_the_hotline(d):
    lat, lon = d.core.streets.representative_point(STREET)
    status, body = await post(d, service_code="road_damage", lat=lat, long=lon, description="路面塌陷",
                              external_id="12345-778", media_url=f"{d.receiver.url}/photo.jpg")
    assert status == 201
    number = json.loads(body)[0]["service_request_id"]
    chat = d.street_chat(STREET)

    await d.wait_button(chat, "接单")
    card = card_of(d, chat, number)
    assert "来源：12345热线" in card["caption"] and "路面塌陷" in card["caption"]
    q = await d.tap_last(d.handler_of(STREET), chat, "接单")
    await answers(d, q)
    await d.wait_button(chat, "办结")
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    call_card = await d.wait_button(d.dept_chat("city_mgmt"), "响应")
    reply = await check_in(d, d.staff_of("city_mgmt"), call_card, lat, lon)
    assert reply["text"].startswith("报到成功")
    after = jpeg(label="after", color=(90, 140, 90), gps=(26.08, 119.29))
    await d.emu.send_photo_reply(d.handler_of(STREET), chat, after, caption="已修复路面",
                                 reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")

    events = await wait_events(d, ["received", "accepted", "called", "on_site", "resolved"])
    assert events == ["received", "accepted", "called", "on_site", "resolved"]
    for headers, raw in d.receiver.callbacks:  # each body signed under the channel's key
        assert headers["X-Open311-Signature"] == "sha256=" + hmac.new(KEY.encode(), raw, hashlib.sha256).hexdigest()
        sent = json.loads(raw)
        assert sent["service_request_id"] == number and sent["external_id"] == "12345-778"
    assert json.loads(d.receiver.callbacks[-1][1])["status"] == "closed"

    # the request as the hotline reads it: resolved (closed), the after-photo served without EXIF
    status, body = await get(d, f"requests/{number}.json", api_key=KEY)
    req = json.loads(body)[0]
    assert (req["status"], req["agency_responsible"]) == ("closed", STREET)
    assert req["status_notes"].startswith("已办结：已修复路面")
    path = req["media_url"].split("127.0.0.1", 1)[1]
    async with d.http.get(d.api.split("/open311")[0] + path) as resp:
        served = await resp.read()
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert not Image.open(io.BytesIO(served)).getexif()

    # the hotline's 回访 by phone: 满意 closes the case, as a citizen's tap would
    async with d.http.post(f"{d.api}/requests/{number}/rating.json",
                           data={"api_key": KEY, "rating": "满意", "comment": "电话回访满意"}) as resp:
        rated = json.loads(await resp.read())
    assert resp.status == 200 and rated[0]["status"] == "closed"
    assert await wait_events(d, [""] * 6) == ["received", "accepted", "called", "on_site", "resolved", "closed"]
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        kinds = [e.kind for e in await s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
    assert (case.state, case.rating, case.rating_comment) == ("closed", "satisfied", "电话回访满意")
    assert kinds[-3:] == ["rated", "closed", "rating_comment"]
    assert await d.wait_text(chat, "电话回访满意")  # the comment reaches the street, as a citizen's would
    # a second rating is refused with the field named
    async with d.http.post(f"{d.api}/requests/{number}/rating.xml", data={"api_key": KEY, "rating": "不满意"}) as r:
        assert r.status == 400 and b"<description>rating: the request is not waiting" in await r.read()


async def test_unsatisfied_by_phone_reopens_to_the_street(d):
    lat, lon = d.core.streets.representative_point(STREET)
    number = json.loads((await post(d, service_code="garbage", lat=lat, long=lon))[1])[0]["service_request_id"]
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    card = card_of(d, chat, number)
    await answers(d, await d.tap_last(d.handler_of(STREET), chat, "接单"))
    await d.wait_button(chat, "办结")
    await d.emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="after"), caption="已清运",
                                 reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")
    async with d.http.post(f"{d.api}/requests/{number}/rating.json", data={"api_key": KEY,
                                                                           "rating": "unsatisfied"}) as resp:
        assert resp.status == 200 and json.loads(await resp.read())[0]["status"] == "open"
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
    assert (case.state, case.reopen_count) == ("accepted", 1)
    assert (await wait_events(d, [""] * 4))[-2:] == ["resolved", "reopened"]
    async with d.http.post(f"{d.api}/requests/{number}/rating.json", data={"api_key": KEY, "rating": "meh"}) as resp:
        assert resp.status == 400 and "rating: one of" in json.loads(await resp.read())[0]["description"]


async def test_an_address_only_case_waits_for_the_command_centre_to_place_it(d):
    status, body = await post(d, service_code="garbage", address_string="鼓楼区温泉路88号门口",
                              description="垃圾未清")
    assert status == 201
    number = json.loads(body)[0]["service_request_id"]
    command = d.cfg.command_center.chat_id
    routing = await d.wait_text(command, number)
    assert "待定位" in routing["text"] and "鼓楼区温泉路88号门口" in routing["text"]
    assert not any(m.get("venue") or m.get("location") for m in d.emu.messages(command))  # no guessed point
    listed = json.loads((await get(d, f"requests/{number}.json", api_key=KEY))[1])[0]
    assert (listed["lat"], listed["long"], listed["address"]) == (None, None, "鼓楼区温泉路88号门口")
    assert listed["agency_responsible"] == "区指挥中心"

    officer = d.staff[command][0]
    lat, lon = d.core.streets.representative_point(STREET)
    await d.emu.send_location(officer, command, lat, lon, reply_to_message_id=routing["message_id"])
    assert await d.wait_text(command, "已定位并分派")
    card = await d.wait_button(d.street_chat(STREET), "接单")
    assert number in card["text"] and "鼓楼区温泉路88号门口" in card["text"]
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        placed = await s.scalar(select(Event).where(Event.kind == "placed"))
    assert (case.state, case.street, case.lat) == ("routed", STREET, lat)
    assert placed.actor_id == officer.id
    # a second location changes nothing
    await d.emu.send_location(officer, command, lat + 0.01, lon, reply_to_message_id=routing["message_id"])
    assert await d.wait_text(command, "已经分派过了")


async def test_a_callback_that_fails_is_retried_and_keeps_the_order(d):
    d.receiver.fail = 1
    lat, lon = d.core.streets.representative_point(STREET)
    await post(d, service_code="garbage", lat=lat, long=lon)
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await answers(d, await d.tap_last(d.handler_of(STREET), chat, "接单"))
    assert await wait_events(d, ["received", "accepted"], timeout=8) == ["received", "accepted"]
    async with d.core.sessions() as s:
        first = await s.scalar(select(Outbox).where(Outbox.kind == "callback").order_by(Outbox.id))
    assert first.attempts == 1 and first.log == ["HTTP 503"] and first.status == "sent"


async def test_the_api_keeps_accepting_cases_while_the_bot_api_is_down(d):
    d.emu.set_down(True)
    lat, lon = d.core.streets.representative_point(STREET)
    numbers = []
    for i in range(5):
        status, body = await post(d, service_code="garbage", lat=lat, long=lon, external_id=f"down-{i}")
        assert status == 201
        numbers.append(json.loads(body)[0]["service_request_id"])
    assert await wait_events(d, ["received"] * 5) == ["received"] * 5  # callbacks do not wait for Telegram
    chat = d.street_chat(STREET)
    assert not [m for m in d.emu.messages(chat) if "来源" in (m.get("text") or "")]
    d.emu.set_down(False)
    for number in numbers:  # the cards follow once Telegram is back
        await d.emu.wait_for(lambda n=number: any(n in (m.get("text") or "") for m in d.emu.messages(chat)),
                             timeout=30)


async def test_callbacks_queued_together_follow_each_other_without_waiting(d):
    """A case's callbacks go one per pass (to keep their order): the next pass must come at once, not
    after the worker's idle wait (it waited 5 s after every pass that sent something)."""
    lat, lon = d.core.streets.representative_point(STREET)
    number = json.loads((await post(d, service_code="garbage", lat=lat, long=lon))[1])[0]["service_request_id"]
    assert await wait_events(d, ["received"]) == ["received"]
    case = await d.core.lifecycle.case_by_number(number)

    def tx(session):
        for key in ("accepted", "n_called", "n_on_site"):
            enqueue(session, d.clock.now(), CHANNEL_CHAT, "notice", case.id, key=key)
    await d.core.db.write(tx)
    d.core._on_outbox()
    assert await wait_events(d, [""] * 4, timeout=3) == ["received", "accepted", "called", "on_site"]


async def test_an_address_only_case_can_be_given_to_a_street_by_a_tap_without_a_point(d):
    number = json.loads((await post(d, service_code="garbage", address_string="东街口天桥下"))[1])[0][
        "service_request_id"]
    command = d.cfg.command_center.chat_id
    await d.wait_text(command, number)
    q = await d.tap_last(d.staff[command][0], command, STREET)
    await answers(d, q)
    card = await d.wait_button(d.street_chat(STREET), "接单")
    assert number in card["text"] and "东街口天桥下" in card["text"]
    await d.outbox_settled()
    assert not any(m.get("venue") for m in d.emu.messages(d.street_chat(STREET)))  # still no guessed point
    req = json.loads((await get(d, f"requests/{number}.json", api_key=KEY))[1])[0]
    assert (req["agency_responsible"], req["lat"]) == (STREET, None)

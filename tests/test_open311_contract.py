"""The Open311 GeoReport v2 contract: every endpoint and every error, in JSON and in XML, checked
against the spec's field lists and types; and what each request leaves in the database."""

import json

import jsonschema
import pytest
from sqlalchemy import func, select

from storage.models import Case, Event, Photo
from tests.open311 import (
    CITY_KEY,
    DEFINITION,
    ERRORS,
    KEY,
    POSTED,
    REQUESTS,
    SERVICES,
    STREET,
    from_xml,
    get,
    hotline_district,
    post,
)


@pytest.fixture
async def d(cfg, tmp_path, clock, monkeypatch):
    async with hotline_district(cfg, tmp_path, clock, monkeypatch) as district:
        yield district


def point(d, street=STREET):
    return d.core.streets.representative_point(street)


async def count_cases(d) -> int:
    async with d.core.sessions() as s:
        return await s.scalar(select(func.count(Case.id)))


def parsed(fmt: str, body: bytes, kind: str):
    return json.loads(body) if fmt == "json" else from_xml(body, kind)


# ---- services ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_services_list_every_category_with_its_limits(d, fmt):
    status, body = await get(d, f"services.{fmt}")
    assert status == 200
    services = parsed(fmt, body, "services")
    if fmt == "json":
        jsonschema.validate(services, SERVICES)
    assert [s["service_code"] for s in services] == list(d.core.settings.categories)
    road = next(s for s in services if s["service_code"] == "road_damage")
    assert road["service_name"] == "道路破损" and "resolve 1wd" in road["description"]
    assert road["metadata"] in (False, "false") and road["type"] == "realtime"


async def test_services_for_a_key_are_the_channels_own(d):
    status, body = await get(d, "services.json", api_key=CITY_KEY)
    assert status == 200 and [s["service_code"] for s in json.loads(body)] == ["garbage"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_service_definition_and_unknown_code(d, fmt):
    status, body = await get(d, f"services/garbage.{fmt}")
    assert status == 200
    if fmt == "json":
        jsonschema.validate(json.loads(body), DEFINITION)
        assert json.loads(body) == {"service_code": "garbage", "attributes": []}
    else:
        assert b"<service_definition><service_code>garbage</service_code><attributes /></service_definition>" in body
    status, body = await get(d, f"services/nothing.{fmt}")
    assert status == 404
    errors = parsed(fmt, body, "errors")
    assert errors[0]["code"] in (404, "404") and "service_code" in errors[0]["description"]


# ---- POST requests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_files_a_case_for_the_street_with_its_channel(d, fmt):
    lat, lon = point(d)
    status, body = await post(d, fmt, service_code="road_damage", lat=lat, long=lon, description="井盖缺失",
                              external_id="12345-0001", phone="13800000000")
    assert status == 201
    answer = parsed(fmt, body, "requests")
    if fmt == "json":
        jsonschema.validate(answer, POSTED)
    number = answer[0]["service_request_id"]
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        reported = await s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "reported"))
    assert (case.channel, case.external_id, case.street, case.state) == ("hotline12345", "12345-0001", STREET,
                                                                         "routed")
    assert reported.data["channel_name"] == "12345热线" and reported.data["contact"] == {"phone": "13800000000"}
    card = await d.wait_button(d.street_chat(STREET), "接单")
    assert number in card["text"] and "来源：12345热线" in card["text"] and "井盖缺失" in card["text"]
    assert "13800000000" not in card["text"]  # the caller's phone stays with the hotline


async def test_post_as_json_body(d):
    lat, lon = point(d)
    status, body = await post(d, as_json=True, service_code="garbage", lat=lat, long=lon, description="垃圾")
    assert status == 201 and json.loads(body)[0]["service_request_id"].startswith("GL-")


async def test_repeated_external_id_returns_the_same_request_and_files_once(d):
    lat, lon = point(d)
    first = await post(d, service_code="garbage", lat=lat, long=lon, external_id="T-1")
    again = await post(d, service_code="garbage", lat=lat, long=lon, external_id="T-1", description="again")
    assert first[0] == 201 and again[0] == 200
    assert json.loads(first[1])[0]["service_request_id"] == json.loads(again[1])[0]["service_request_id"]
    assert "already filed" in json.loads(again[1])[0]["service_notice"]
    assert await count_cases(d) == 1
    # another channel's ticket of the same number is another case
    assert (await post(d, key=CITY_KEY, service_code="garbage", lat=lat, long=lon, external_id="T-1"))[0] == 201
    assert await count_cases(d) == 2


BAD = [  # (fields, status, words the description must hold)
    ({"lat": 26.08, "long": 119.29}, 400, "service_code: missing"),
    ({"service_code": "potholes", "lat": 26.08, "long": 119.29}, 400, "service_code: unknown service code"),
    ({"service_code": "garbage", "lat": 95, "long": 119.29}, 400, "lat: 95.0 is not a latitude"),
    ({"service_code": "garbage", "lat": 26.08, "long": 200}, 400, "long: 200.0 is not a longitude"),
    ({"service_code": "garbage", "lat": "north", "long": 119.29}, 400, "lat: 'north' is not a number"),
    ({"service_code": "garbage", "lat": 26.08}, 400, "long: missing"),
    ({"service_code": "garbage"}, 400, "lat/long: give lat and long, or address_string"),
    ({"service_code": "garbage", "lat": 39.9, "long": 116.4}, 400, "lat/long: outside the district: 15"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("fields,status,words", BAD)
async def test_bad_requests_get_the_specs_error_naming_the_field_and_write_nothing(d, fmt, fields, status, words):
    code, body = await post(d, fmt, **fields)
    assert code == status
    errors = parsed(fmt, body, "errors")
    if fmt == "json":
        jsonschema.validate(errors, ERRORS)
    assert str(errors[0]["code"]) == str(status) and words in errors[0]["description"], errors
    assert await count_cases(d) == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_missing_or_wrong_key_is_403(d, fmt):
    lat, lon = point(d)
    for key, words in ((None, "api_key: missing"), ("guess", "api_key: not valid")):
        code, body = await post(d, fmt, key=key, service_code="garbage", lat=lat, long=lon)
        errors = parsed(fmt, body, "errors")
        assert code == 403 and str(errors[0]["code"]) == "403" and errors[0]["description"] == words
    code, body = await get(d, f"requests.{fmt}")
    assert code == 403
    assert await count_cases(d) == 0


async def test_a_service_the_channel_may_not_file_is_403(d):
    lat, lon = point(d)
    code, body = await post(d, key=CITY_KEY, service_code="road_damage", lat=lat, long=lon)
    assert code == 403 and "road_damage" in json.loads(body)[0]["description"]
    assert await count_cases(d) == 0


async def test_rate_limit_per_channel_is_429(d):
    codes = [(await get(d, "requests.json", api_key=CITY_KEY))[0] for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert (await get(d, "requests.json", api_key=KEY))[0] == 200  # the other channel is not held back


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_oversized_and_unreadable_bodies(d, fmt):
    url = f"{d.api}/requests.{fmt}"
    big = {"api_key": KEY, "service_code": "garbage", "description": "x" * 70_000}
    async with d.http.post(url, data=big) as resp:
        errors = parsed(fmt, await resp.read(), "errors")
        assert resp.status == 400 and errors[0]["description"] == "body: larger than 65536 bytes"
    async with d.http.post(url, data=b'{"api_key": "' + KEY.encode() + b'", ',
                           headers={"Content-Type": "application/json"}) as resp:
        errors = parsed(fmt, await resp.read(), "errors")
        assert resp.status == 400 and errors[0]["description"].startswith("body: invalid JSON")
    async with d.http.post(url, data=b"api_key=%ZZ&&=&", headers={
            "Content-Type": "application/x-www-form-urlencoded"}) as resp:
        errors = parsed(fmt, await resp.read(), "errors")
        assert resp.status in (400, 403), errors
    assert await count_cases(d) == 0


# ---- GET requests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_get_requests_with_filters_and_pages(d, fmt, clock):
    lat, lon = point(d)
    numbers = []
    for code in ("garbage", "road_damage", "garbage"):
        numbers.append(json.loads((await post(d, service_code=code, lat=lat, long=lon))[1])[0]["service_request_id"])
        clock.advance(minutes=1)
    await post(d, key=CITY_KEY, service_code="garbage", lat=lat, long=lon)  # another channel's: never listed
    status, body = await get(d, f"requests.{fmt}", api_key=KEY)
    listed = parsed(fmt, body, "requests")
    if fmt == "json":
        jsonschema.validate(listed, REQUESTS)
    assert status == 200 and [r["service_request_id"] for r in listed] == numbers[::-1]
    first = listed[-1]
    assert first["status"] == "open" and first["agency_responsible"] == STREET
    assert first["status_notes"].startswith(f"已派至{STREET}")
    assert first["requested_datetime"] == "2026-11-23T09:30:00+08:00"
    assert first["expected_datetime"] == "2026-11-23T13:30:00+08:00"  # garbage: resolve within 4 h
    if fmt == "xml":
        assert set(first) >= set(REQUESTS["items"]["required"])
    filtered = parsed(fmt, (await get(d, f"requests.{fmt}", api_key=KEY, service_code="road_damage"))[1], "requests")
    assert [r["service_request_id"] for r in filtered] == [numbers[1]]
    by_id = parsed(fmt, (await get(d, f"requests.{fmt}", api_key=KEY,
                                   service_request_id=f"{numbers[0]},{numbers[2]}"))[1], "requests")
    assert {r["service_request_id"] for r in by_id} == {numbers[0], numbers[2]}
    page2 = parsed(fmt, (await get(d, f"requests.{fmt}", api_key=KEY, page=2, page_size=2))[1], "requests")
    assert [r["service_request_id"] for r in page2] == [numbers[0]]
    window = parsed(fmt, (await get(d, f"requests.{fmt}", api_key=KEY, start_date="2026-11-23T09:31:00+08:00",
                                    end_date="2026-11-23T09:31:30+08:00"))[1], "requests")
    assert [r["service_request_id"] for r in window] == [numbers[1]]
    assert parsed(fmt, (await get(d, f"requests.{fmt}", api_key=KEY, status="closed"))[1], "requests") == []
    code, body = await get(d, f"requests.{fmt}", api_key=KEY, start_date="yesterday")
    assert code == 400 and "start_date" in parsed(fmt, body, "errors")[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_get_one_request_and_only_ones_own(d, fmt):
    lat, lon = point(d)
    number = json.loads((await post(d, service_code="garbage", lat=lat, long=lon))[1])[0]["service_request_id"]
    status, body = await get(d, f"requests/{number}.{fmt}", api_key=KEY)
    one = parsed(fmt, body, "requests")
    if fmt == "json":
        jsonschema.validate(one, REQUESTS)
        assert one[0]["lat"] == pytest.approx(lat) and one[0]["media_url"] == ""
    assert status == 200 and one[0]["service_request_id"] == number
    status, body = await get(d, f"requests/{number}.{fmt}", api_key=CITY_KEY)
    assert status == 404 and "service_request_id" in parsed(fmt, body, "errors")[0]["description"]


# ---- photos by URL ----------------------------------------------------------------------------------
async def test_media_url_is_fetched_once_and_shown_to_the_street_without_exif(d):
    lat, lon = point(d)
    status, body = await post(d, service_code="garbage", lat=lat, long=lon, media_url=f"{d.receiver.url}/photo.jpg")
    assert status == 201 and json.loads(body)[0]["service_notice"] == ""
    async with d.core.sessions() as s:
        photo = await s.scalar(select(Photo))
    assert photo.stage == "before" and photo.needs_strip and (d.cfg.media.dir / f"{photo.sha256}.jpeg").exists()
    card = await d.wait_button(d.street_chat(STREET), "接单")
    assert "来源：12345热线" in card["caption"] and card["photo"]


@pytest.mark.parametrize("url,why", [
    ("/notimage.jpg", "not a usable image"), ("ftp://127.0.0.1/x.jpg", "only http and https"),
    ("/big.jpg", "not a usable image (bomb)"), ("/slow.jpg", "fetch failed: TimeoutError"),
    ("http://127.0.0.1:9/x.jpg", "fetch failed")])
async def test_a_failed_media_url_keeps_the_case_and_says_so_in_the_trace(d, url, why):
    lat, lon = point(d)
    url = d.receiver.url + url if url.startswith("/") else url
    status, body = await post(d, service_code="garbage", lat=lat, long=lon, media_url=url)
    assert status == 201 and why in json.loads(body)[0]["service_notice"]
    async with d.core.sessions() as s:
        failed = await s.scalar(select(Event).where(Event.kind == "media_failed"))
        assert await s.scalar(select(func.count(Photo.id))) == 0
    assert why in failed.data["reason"]
    card = await d.wait_button(d.street_chat(STREET), "接单")  # the case goes on without the photo
    assert "来源：12345热线" in card["text"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_media_url_of_a_channel_that_does_not_own_it_is_refused(d, host):
    lat, lon = point(d)
    url = d.receiver.url.replace("127.0.0.1", host) + "/photo.jpg"
    status, body = await post(d, key=CITY_KEY, service_code="garbage", lat=lat, long=lon, media_url=url)
    assert status == 201 and "private or loopback" in json.loads(body)[0]["service_notice"]
    # the hotline names its own host: a name is resolved once and that address is the one connected to
    status, body = await post(d, service_code="garbage", lat=lat, long=lon, media_url=url)
    assert status == 201 and json.loads(body)[0]["service_notice"] == ""

"""The channel-free intake of cases/channels.py on a tmp SQLite: whole cases or nothing, one case per
ticket however the requests arrive, address-only cases placed by the command centre, callbacks rows."""

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import load_grids, load_streets, settings_from
from cases import Core
from cases.channels import ChannelError, ChannelIntake, ChannelRequest
from storage.db import open_database
from storage.models import Case, Deadline, Event, Outbox
from storage.outbox import CHANNEL_CHAT

STREET = "温泉街道"


@pytest.fixture
async def intake(cfg, clock, tmp_path):
    cfg.media.dir = tmp_path / "media"
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    core = Core(db, clock, settings_from(cfg), load_streets(cfg), grids=load_grids(cfg))
    yield ChannelIntake(core)
    await db.dispose()


def req(intake, n: int = 0, street: str = STREET, **kw) -> ChannelRequest:
    lat, lon = intake.streets.representative_point(street)
    return ChannelRequest(**{"channel": "hotline12345", "channel_name": "12345热线", "service_code": "garbage",
                             "description": f"case {n}", "lat": lat, "lon": lon, "external_id": f"T-{n}", **kw})


async def rows(intake, model, *where) -> int:
    async with intake.core.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_concurrent_requests_are_whole_cases_with_distinct_numbers(intake):
    filed = await asyncio.gather(*(intake.file(req(intake, n)) for n in range(40)))
    numbers = [f.case.number for f in filed]
    assert len(set(numbers)) == 40 and all(f.created for f in filed)
    assert numbers == sorted(numbers)  # in the order they came
    assert await rows(intake, Deadline) == 80  # garbage: respond and resolve, each case
    assert await rows(intake, Event, Event.kind == "reported") == 40
    assert await rows(intake, Outbox, Outbox.kind == "street_card") == 40
    assert await rows(intake, Outbox, Outbox.kind == "callback", Outbox.chat_id == CHANNEL_CHAT) == 40


async def test_one_ticket_is_one_case_even_when_sent_at_once(intake):
    filed = await asyncio.gather(*(intake.file(req(intake, 7)) for _ in range(5)))
    assert len({f.case.id for f in filed}) == 1 and [f.created for f in filed].count(True) == 1
    again = await intake.file(req(intake, 7, description="changed"))
    assert not again.created and again.case.id == filed[0].case.id
    assert await rows(intake, Case) == 1


async def test_a_request_that_fails_in_the_group_writes_nothing_and_spares_the_others(intake, monkeypatch):
    real = intake._dependants

    def broken(session, request, match, case, now):
        real(session, request, match, case, now)
        if request.external_id == "T-3":
            raise RuntimeError("disk full")
    monkeypatch.setattr(intake, "_dependants", broken)
    results = await asyncio.gather(*(intake.file(req(intake, n)) for n in range(6)), return_exceptions=True)
    assert isinstance(results[3], RuntimeError)
    assert all(not isinstance(r, Exception) for i, r in enumerate(results) if i != 3)
    async with intake.core.sessions() as s:
        tickets = set(await s.scalars(select(Case.external_id)))
    assert tickets == {"T-0", "T-1", "T-2", "T-4", "T-5"}  # T-3: no case, no half of one
    assert await rows(intake, Deadline) == 10 and await rows(intake, Event, Event.kind == "reported") == 5


async def test_refusals_name_the_field(intake):
    for bad, field in ((req(intake, service_code="nope"), "service_code"), (req(intake, lat=91.0), "lat"),
                       (req(intake, lat=39.9, lon=116.4), "lat/long"), (req(intake, lat=None, lon=None), "lat/long"),
                       (req(intake, lon=None), "long"), (req(intake, description="x" * 4001), "description")):
        with pytest.raises(ChannelError) as err:
            await intake.file(bad)
        assert err.value.field == field
    with pytest.raises(ChannelError, match="outside the district: 15"):
        await intake.file(req(intake, lat=39.9, lon=116.4))
    assert await rows(intake, Case) == 0


async def test_an_address_only_case_goes_to_the_command_centre_and_is_placed_there(intake):
    command = intake.settings.command_chat
    filed = await intake.file(req(intake, lat=None, lon=None, address="温泉路88号"))
    case = filed.case
    assert (case.state, case.place_source, case.street) == ("unrouted", "address", None)
    assert await rows(intake, Outbox, Outbox.kind == "routing_card", Outbox.chat_id == command) == 1
    lat, lon = intake.streets.representative_point(STREET)
    assert (await intake.place(case.id, lat, lon, 4999, -1)).key == "not_your_group"
    assert (await intake.place(case.id, 39.9, 116.4, 4999, command)).key == "bad_place"
    outcome = await intake.place(case.id, lat, lon, 4999, command)
    assert outcome.ok and (outcome.case.state, outcome.case.street, outcome.case.lat) == ("routed", STREET, lat)
    assert (await intake.place(case.id, lat, lon, 4999, command)).key == "already_routed"
    assert await rows(intake, Outbox, Outbox.kind == "street_card") == 1


async def test_the_hotlines_rating_has_a_citizens_effect(intake):
    case = (await intake.file(req(intake))).case
    with pytest.raises(ChannelError):
        await intake.rate(case, "great")
    assert (await intake.rate(case, "satisfied")).key == "already_rated"  # not resolved yet: nothing happens


async def test_a_case_with_a_point_is_not_moved_by_a_location(intake):
    lat, lon = intake.streets.representative_point(STREET)
    case = (await intake.file(req(intake, lat=lat + 0.2, lon=lon))).case  # outside every street, in the district
    assert case.state == "unrouted" and case.place_source == "api"
    outcome = await intake.place(case.id, lat, lon, 4999, intake.settings.command_chat)
    assert (outcome.ok, outcome.key) == (False, "has_point")
    async with intake.core.sessions() as s:
        assert (await s.get(Case, case.id)).lat == lat + 0.2

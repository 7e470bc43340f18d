"""Intake, routing and acceptance, on the core alone: the rows each transition leaves behind."""

import asyncio
from datetime import timedelta

import pytest

from cases.intake import CATEGORY, CONFIRM, DESCRIPTION, PLACE, IntakeError
from storage.models import Case, Deadline, Draft, Outbox
from tests.unit.support import (
    CITIZEN,
    COMMAND,
    HANDLER,
    STREET,
    STREET_CHAT,
    accepted,
    case_row,
    deadlines,
    events,
    last_outbox_id,
    outbox,
    photo,
    report,
    rows,
    trace,
)

OUTSIDE = (26.095, 119.2185)  # 3.7 km west of 温泉街道: in no street, within the district's reach


async def test_a_report_is_routed_by_polygon_with_its_deadlines_and_messages(core, clock):
    view = await core.intake.add_photo(CITIZEN, CITIZEN, "zh", photo())
    assert view.step == PLACE
    view = await core.intake.set_place(CITIZEN, CITIZEN, "zh", *core.streets.representative_point(STREET), "location")
    assert view.step == CATEGORY
    assert (await core.intake.set_category(CITIZEN, CITIZEN, "zh", "road_damage")).step == DESCRIPTION
    assert (await core.intake.set_description(CITIZEN, CITIZEN, "zh", "井盖缺失")).step == CONFIRM
    case = await core.intake.submit(CITIZEN, CITIZEN, "zh")

    row = case_row(core, case.id)
    assert (row.number, row.state, row.street, row.routed_by) == ("GL-20261123-0001", "routed", STREET, "polygon")
    assert row.reporter_tag.startswith("R-") and str(CITIZEN) not in row.reporter_tag
    assert trace(core, case.id) == ["reported", "routed"]
    now = clock.now()
    due = {k: (d.due_at - now, d.next_at - now, d.status) for k, d in deadlines(core, case.id).items()}
    assert due == {"respond": (timedelta(minutes=10), timedelta(minutes=8), "open"),
                   "checkin": (timedelta(hours=1), timedelta(minutes=48), "open"),
                   "resolve": (timedelta(days=1), timedelta(hours=19, minutes=12), "open")}  # 1 working day
    assert outbox(core) == [("street_card", STREET_CHAT, None), ("receipt", CITIZEN, None)]
    assert rows(core, Draft) == [], "the draft is gone once submitted"
    assert core.wakes == [now]


async def test_case_numbers_count_per_day(core, clock):
    first = await report(core, user=8001)
    second = await report(core, user=8002)
    clock.advance(days=1)
    third = await report(core, user=8003)
    assert [first.number, second.number, third.number] == ["GL-20261123-0001", "GL-20261123-0002",
                                                           "GL-20261124-0001"]


async def test_outside_every_street_goes_to_the_command_centre(core):
    case = await report(core, place=OUTSIDE)
    row = case_row(core, case.id)
    assert (row.state, row.street, row.routed_by) == ("unrouted", None, "pending")
    assert trace(core, case.id) == ["reported", "to_command"]
    assert events(core, case.id, "to_command")[0].data["reason"] == "outside every street"
    assert outbox(core) == [("routing_card", COMMAND, None), ("receipt", CITIZEN, None)]


async def test_intake_refusals_keep_the_draft(core):
    with pytest.raises(IntakeError) as err:
        await core.intake.set_place(CITIZEN, CITIZEN, "zh", 31.23, 121.47, "location")  # Shanghai
    assert err.value.key == "far_away"
    with pytest.raises(IntakeError) as err:
        await core.intake.set_category(CITIZEN, CITIZEN, "zh", "road_damage")  # no draft yet: a stale button
    assert err.value.key == "stale"
    for n in range(5):
        await core.intake.add_photo(CITIZEN, CITIZEN, "zh", photo(n))
    await core.intake.add_photo(CITIZEN, CITIZEN, "zh", photo(0))  # the same picture again adds nothing
    with pytest.raises(IntakeError) as err:
        await core.intake.add_photo(CITIZEN, CITIZEN, "zh", photo(9))
    assert (err.value.key, err.value.args_) == ("too_many_photos", {"n": 5})
    assert len(rows(core, Draft)[0].data["photos"]) == 5
    with pytest.raises(IntakeError) as err:
        await core.intake.submit(CITIZEN, CITIZEN, "zh")  # not confirmed yet
    assert err.value.key == "stale"
    assert rows(core, Case) == []


async def test_a_citizen_may_file_only_so_many_reports_an_hour(core, cfg):
    for _ in range(core.settings.max_cases_per_hour):
        await report(core)
    with pytest.raises(IntakeError) as err:
        await report(core)
    assert err.value.key == "flood"
    assert len(rows(core, Case)) == core.settings.max_cases_per_hour


async def test_an_untouched_draft_expires_with_a_message(core, clock):
    await core.intake.add_photo(CITIZEN, CITIZEN, "zh", photo())
    clock.advance(minutes=29)
    assert await core.intake.expire_drafts() == 0
    clock.advance(minutes=2)
    assert await core.intake.expire_drafts() == 1
    assert rows(core, Draft) == []
    assert outbox(core) == [("notice", CITIZEN, "draft_expired")]
    assert rows(core, Outbox)[0].payload["args"] == {"minutes": 30}


async def test_accept_race_two_members_at_once_one_wins(core, clock):
    case = await report(core)
    mark = last_outbox_id(core)
    a, b = await asyncio.gather(core.lifecycle.accept(case.id, 5101, "Alice", STREET_CHAT),
                                core.lifecycle.accept(case.id, 5102, "Bob", STREET_CHAT))
    assert sorted([a.ok, b.ok]) == [False, True]
    winner, loser = (a, b) if a.ok else (b, a)
    assert loser.key == "already_taken"
    row = case_row(core, case.id)
    assert row.state == "accepted" and row.handler_id == (5101 if a.ok else 5102)
    assert row.accepted_at == clock.now()
    assert [e.actor_id for e in events(core, case.id, "accepted")] == [row.handler_id]
    # Accepting answers the dispatch: respond (and assign) are met; the rest stay open.
    assert {k: d.status for k, d in deadlines(core, case.id).items()} == \
        {"respond": "met", "checkin": "open", "resolve": "open"}
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("notice", CITIZEN, "accepted")]
    # the winner's double tap and an outsider's tap change nothing
    again = await core.lifecycle.accept(case.id, row.handler_id, "x", STREET_CHAT)
    assert (again.ok, again.key) == (False, "already_yours")
    outsider = await core.lifecycle.accept(case.id, 5103, "Eve", -1001000000001)
    assert (outsider.ok, outsider.key) == (False, "not_your_group")
    assert len(events(core, case.id, "accepted")) == 1 and len(outbox(core, mark)) == 2
    assert (await core.lifecycle.accept(99999, 5101, "Alice", STREET_CHAT)).key == "stale"


async def test_the_command_centre_routes_by_hand_once(core):
    case = await report(core, place=OUTSIDE)
    mark = last_outbox_id(core)
    assert (await core.lifecycle.route_manually(case.id, STREET, 4999, STREET_CHAT)).key == "not_your_group"
    outcome = await core.lifecycle.route_manually(case.id, STREET, 4999, COMMAND)
    assert (outcome.ok, outcome.key) == (True, "routed")
    row = case_row(core, case.id)
    assert (row.state, row.street, row.routed_by) == ("routed", STREET, "manual")
    assert events(core, case.id, "routed")[0].data == {"street": STREET, "how": "manual"}
    # the street's card; a card a street left behind (none here) brought up to date; the routing card
    assert outbox(core, mark) == [("street_card", STREET_CHAT, None), ("refresh_card", STREET_CHAT, None),
                                  ("refresh_card", COMMAND, None)]
    assert (await core.lifecycle.route_manually(case.id, "鼓东街道", 4999, COMMAND)).key == "already_routed"


async def test_not_ours_hands_the_case_back_with_the_reason(core):
    case = await accepted(core)
    mark = last_outbox_id(core)
    outcome = await core.lifecycle.not_ours(case.id, HANDLER, STREET_CHAT, "  在鼓楼区外  ")
    assert outcome.ok
    row = case_row(core, case.id)
    assert (row.state, row.street, row.handler_id, row.routed_by) == ("unrouted", None, None, "pending")
    assert events(core, case.id, "not_ours")[0].data == {"street": STREET, "reason": "在鼓楼区外"}
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("notice", COMMAND, "c_returned"),
                                  ("routing_card", COMMAND, None)]
    assert await core.lifecycle.returned_by(case.id) == STREET
    assert (await core.lifecycle.not_ours(case.id, HANDLER, STREET_CHAT)).key == "not_your_group"


async def test_reading_back_by_number_and_reporter(core):
    case = await report(core)
    assert (await core.lifecycle.case_by_number(case.number.lower())).id == case.id
    assert [c.id for c in await core.lifecycle.cases_of(CITIZEN)] == [case.id]
    assert [e.kind for e in await core.lifecycle.timeline(case.id)] == ["reported", "routed"]
    assert {d.kind for d in (await core.lifecycle.load_case(case.id)).deadlines} == {"respond", "checkin", "resolve"}
    assert all(isinstance(d, Deadline) for d in rows(core, Deadline))

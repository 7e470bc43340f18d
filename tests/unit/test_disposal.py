"""Call → answer → check-in, resolve → rate → reopen, mutual ratings, the rating timeout: the core alone."""

from datetime import timedelta

from storage.models import Call, Photo
from tests.unit.support import (
    CITIZEN,
    CITY_MGMT,
    COMMAND,
    DUTY_LEADER,
    HANDLER,
    STREET_CHAT,
    WATER,
    WATER_CO,
    accepted,
    called,
    case_row,
    deadlines,
    events,
    last_outbox_id,
    outbox,
    photo,
    rows,
    trace,
)


def after_photo() -> dict:
    return photo(99)


async def test_a_call_opens_its_deadlines_and_reaches_the_department(core, clock):
    case, calls = await called(core, clock, ("city_mgmt", "construction"), hours=1)
    assert [(c.department, c.status, c.lat, c.lon) for c in calls] == \
        [(d, "pending", case.lat, case.lon) for d in ("city_mgmt", "construction")]
    dl = deadlines(core, case.id)
    for c in calls:
        assert dl[f"answer:{c.id}"].due_at == clock.now() + timedelta(minutes=10)
        assert dl[f"checkin:{c.id}"].due_at == clock.now() + timedelta(hours=1)
    assert events(core, case.id, "called")[0].data["departments"] == ["city_mgmt", "construction"]
    tail = outbox(core)[-4:]
    assert tail == [("call_card", CITY_MGMT, None), ("call_card", -1002000000002, None),
                    ("refresh_card", STREET_CHAT, None), ("notice", CITIZEN, "n_called")]
    # calling a department with an open call again does nothing
    again = await core.disposal.call_departments(case.id, ["city_mgmt"], clock.now() + timedelta(hours=1), HANDLER, "h",
                                        STREET_CHAT)
    assert (again.ok, again.key) == (False, "already_called")
    call_departments = core.disposal.call_departments
    assert (await call_departments(case.id, ["nope"], clock.now(), HANDLER, "h", STREET_CHAT)).key == "stale"


async def test_a_call_elsewhere_and_a_city_unit_tracked_by_its_district_department(core, clock):
    case = await accepted(core)
    place = {"lat": case.lat + 0.001, "lon": case.lon}
    call_departments = core.disposal.call_departments
    await call_departments(case.id, ["water_co"], clock.now() + timedelta(hours=1), HANDLER, "h", STREET_CHAT,
                                place=place)
    call = rows(core, Call)[0]
    assert (call.lat, call.lon) == (place["lat"], place["lon"])
    cards = [r for r in outbox(core) if r[0] == "call_card"]
    assert cards == [("call_card", WATER_CO, None), ("call_card", WATER, None)]  # the unit, then its tracker
    mark = last_outbox_id(core)
    assert (await core.disposal.answer_call(call.id, 1, "Wang", WATER_CO)).ok
    assert outbox(core, mark) == [("refresh_call", WATER_CO, None), ("notice", STREET_CHAT, "s_answered"),
                                  ("notice", WATER, "s_answered")]


async def test_call_answer_check_in_within_the_radius(core, clock):
    case, [call] = await called(core, clock)
    assert (await core.disposal.answer_call(call.id, 6100, "Staff", STREET_CHAT)).key == "not_your_group"
    clock.advance(minutes=3)
    mark = last_outbox_id(core)
    outcome = await core.disposal.answer_call(call.id, 6100, "Staff", CITY_MGMT)
    assert (outcome.ok, outcome.key) == (True, "answered")
    assert (await core.disposal.answer_call(call.id, 6100, "Staff", CITY_MGMT)).key == "call_answered"
    row = rows(core, Call)[0]
    assert (row.status, row.answered_by_name, row.answered_at) == ("answered", "Staff", clock.now())
    dl = deadlines(core, case.id)
    assert (dl[f"answer:{call.id}"].status, dl[f"checkin:{call.id}"].status) == ("met", "open")
    assert outbox(core, mark) == [("refresh_call", CITY_MGMT, None), ("notice", STREET_CHAT, "s_answered")]

    clock.advance(minutes=20)
    mark = last_outbox_id(core)
    outcome = await core.disposal.check_in(call.id, 6100, "Staff", case.lat + 0.0004, case.lon)  # about 45 m away
    assert (outcome.ok, outcome.key) == (True, "checked_in") and 40 < outcome.distance_m < 50
    row = rows(core, Call)[0]
    assert (row.status, row.checked_in_at, round(row.checkin_distance_m)) == \
        ("checked_in", clock.now(), round(outcome.distance_m))
    assert deadlines(core, case.id)[f"checkin:{call.id}"].status == "met"
    assert events(core, case.id, "checked_in")[0].data == {"department": "city_mgmt",
                                                           "distance_m": round(outcome.distance_m, 1)}
    assert outbox(core, mark) == [("refresh_call", CITY_MGMT, None), ("notice", STREET_CHAT, "s_checked_in"),
                                  ("notice", CITIZEN, "n_on_site")]
    assert (await core.disposal.check_in(call.id, 6100, "Staff", case.lat, case.lon)).key == "call_checked_in"


async def test_a_check_in_too_far_away_is_refused_with_the_distance(core, clock):
    case, [call] = await called(core, clock)
    mark = last_outbox_id(core)
    outcome = await core.disposal.check_in(call.id, 6100, "Staff", case.lat + 0.01, case.lon)  # about 1.1 km
    assert (outcome.ok, outcome.key) == (False, "too_far") and 1000 < outcome.distance_m < 1200
    assert rows(core, Call)[0].status == "pending"
    assert events(core, case.id, "checkin_refused")[0].data == {"department": "city_mgmt",
                                                                "distance_m": round(outcome.distance_m)}
    assert outbox(core, mark) == [] and deadlines(core, case.id)[f"checkin:{call.id}"].status == "open"
    # a check-in without answering first answers too
    assert (await core.disposal.check_in(call.id, 6100, "Staff", case.lat, case.lon)).ok
    row = rows(core, Call)[0]
    assert (row.status, row.answered_by_name, row.answered_at) == ("checked_in", "Staff", clock.now())
    assert deadlines(core, case.id)[f"answer:{call.id}"].status == "met"


async def test_a_declined_call_disputed_becomes_a_difficult_case(core, clock):
    case, [call] = await called(core, clock)
    mark = last_outbox_id(core)
    assert (await core.disposal.dispute_decline(call.id, HANDLER, STREET_CHAT)).key == "stale"  # not declined yet
    assert (await core.disposal.decline_call(call.id, 6100, "Staff", CITY_MGMT, "  归建设局管 ")).ok
    row = rows(core, Call)[0]
    assert (row.status, row.decline_reason) == ("declined", "归建设局管")
    dl = deadlines(core, case.id)
    assert (dl[f"answer:{call.id}"].status, dl[f"checkin:{call.id}"].status) == ("cancelled", "cancelled")
    assert outbox(core, mark) == [("refresh_call", CITY_MGMT, None), ("declined_notice", STREET_CHAT, None)]
    mark = last_outbox_id(core)
    assert (await core.disposal.dispute_decline(call.id, HANDLER, CITY_MGMT)).key == "not_your_group"
    assert (await core.disposal.dispute_decline(call.id, HANDLER, STREET_CHAT)).key == "difficult_sent"
    assert case_row(core, case.id).difficult
    assert outbox(core, mark) == [("difficult_card", COMMAND, None), ("difficult_card", DUTY_LEADER, None)]
    assert (await core.disposal.dispute_decline(call.id, HANDLER, STREET_CHAT)).key == "already_difficult"


async def test_a_department_note_reaches_the_street(core, clock):
    case, [call] = await called(core, clock)
    mark = last_outbox_id(core)
    assert (await core.disposal.note_on_call(call.id, 6100, "Staff", CITY_MGMT, "十分钟到")).ok
    assert outbox(core, mark) == [("notice", STREET_CHAT, "s_note")]
    assert events(core, case.id, "note")[0].data == {"department": "city_mgmt", "text": "十分钟到"}


async def test_no_photo_no_note_no_resolution(core):
    case = await accepted(core)
    resolve = core.disposal.resolve
    assert (await resolve(case.id, HANDLER, STREET_CHAT, "修好了", None)).key == "need_photo"
    assert (await resolve(case.id, HANDLER, STREET_CHAT, "  ", after_photo())).key == "need_note"
    assert (await resolve(case.id, HANDLER, -1001000000001, "修好了", after_photo())).key == "not_your_group"
    assert case_row(core, case.id).state == "accepted"


async def test_resolve_then_satisfied_closes_and_both_sides_rate_each_other(core, clock):
    case, [call] = await called(core, clock)
    await core.disposal.check_in(call.id, 6100, "Staff", case.lat, case.lon)
    clock.advance(hours=2)
    mark = last_outbox_id(core)
    outcome = await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "已修复路面", after_photo())
    assert (outcome.ok, outcome.key) == (True, "resolved")
    row = case_row(core, case.id)
    assert (row.state, row.resolved_at, row.resolution_note, row.resolved_by) == \
        ("resolved", clock.now(), "已修复路面", HANDLER)
    assert [(p.stage, p.position) for p in rows(core, Photo)] == [("before", 0), ("after", 1)]
    dl = deadlines(core, case.id)
    assert {k: d.status for k, d in dl.items() if ":" not in k} == \
        {"respond": "met", "checkin": "met", "resolve": "met", "rating": "open"}
    assert dl["rating"].due_at == clock.now() + timedelta(days=3)
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("rating_request", CITIZEN, None),
                                  ("rate_department", STREET_CHAT, None), ("rate_call", CITY_MGMT, None)]
    assert (await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "again", after_photo())).key == "wrong_state"

    assert (await core.disposal.rate(case.id, 1234, "satisfied")).key == "stale"  # only the reporter rates
    mark = last_outbox_id(core)
    outcome = await core.disposal.rate(case.id, CITIZEN, "satisfied")
    assert (outcome.ok, outcome.key) == (True, "rated_satisfied")
    row = case_row(core, case.id)
    assert (row.state, row.rating, row.closed_at) == ("closed", "satisfied", clock.now())
    assert deadlines(core, case.id)["rating"].status == "met"
    # the street card's last word (the outcome), then the citizen's thanks
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("notice", CITIZEN, "n_thanks")]
    assert (await core.disposal.rate(case.id, CITIZEN, "mostly")).key == "already_rated"

    # the optional comment goes to the group that handled the case, once
    assert (await core.disposal.comment_rating(case.id, CITIZEN, "修得很快")).key == "comment_saved"
    assert (await core.disposal.comment_rating(case.id, CITIZEN, "again")).key == "stale"
    assert case_row(core, case.id).rating_comment == "修得很快"
    assert outbox(core)[-1] == ("notice", STREET_CHAT, "s_comment")

    # mutual rating (双向评价): each side once, only its own side
    assert (await core.disposal.rate_department(call.id, CITY_MGMT, 6100, "good")).key == "not_your_group"
    assert (await core.disposal.rate_department(call.id, STREET_CHAT, HANDLER, "good")).key == "thanks"
    assert (await core.disposal.rate_department(call.id, STREET_CHAT, HANDLER, "poor")).key == "already_rated"
    assert (await core.disposal.rate_call(call.id, CITY_MGMT, 6100, "accurate")).key == "thanks"
    assert (await core.disposal.rate_call(call.id, CITY_MGMT, 6100, "bogus")).key == "stale"
    row = rows(core, Call)[0]
    assert (row.street_rating, row.department_rating) == ("good", "accurate")
    assert trace(core, case.id) == ["reported", "routed", "accepted", "called", "checked_in", "resolved", "rated",
                                    "closed", "rating_comment", "mutual_rating", "mutual_rating"]


async def test_not_satisfied_reopens_with_fresh_deadlines_and_twice_is_difficult(core, clock):
    case = await accepted(core)
    first_deadlines = {d.id for d in deadlines(core, case.id).values()}
    await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "清理了", after_photo())
    clock.advance(hours=5)
    mark = last_outbox_id(core)
    outcome = await core.disposal.rate(case.id, CITIZEN, "unsatisfied")
    assert (outcome.ok, outcome.key) == (True, "rated_unsatisfied")
    row = case_row(core, case.id)
    assert (row.state, row.reopen_count, row.resolved_at, row.handler_id) == ("accepted", 1, None, HANDLER)
    fresh = {k: d for k, d in deadlines(core, case.id).items() if d.id not in first_deadlines and k != "rating"}
    assert {k: (d.opened_at, d.due_at - clock.now(), d.status) for k, d in fresh.items()} == {
        "checkin": (clock.now(), timedelta(hours=1), "open"),
        "resolve": (clock.now(), timedelta(days=1), "open")}  # no new "respond": the street already has it
    assert events(core, case.id, "reopened")[0].data == {"count": 1}
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("street_card", STREET_CHAT, None),
                                  ("notice", CITIZEN, "n_reopened")]
    assert not row.difficult

    await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "又清理了", after_photo())
    mark = last_outbox_id(core)
    await core.disposal.rate(case.id, CITIZEN, "unsatisfied")
    row = case_row(core, case.id)
    assert (row.state, row.reopen_count, row.difficult) == ("accepted", 2, True)
    assert events(core, case.id, "difficult")[0].data == {"reason": {"why": "reopened_twice"}}
    assert outbox(core, mark) == [("refresh_card", STREET_CHAT, None), ("difficult_card", COMMAND, None),
                                  ("difficult_card", DUTY_LEADER, None),
                                  ("street_card", STREET_CHAT, None), ("notice", CITIZEN, "n_reopened")]


async def test_an_unrated_case_closes_after_the_rating_timeout(core, clock):
    case = await accepted(core)
    await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "清理了", after_photo())
    clock.advance(days=3, seconds=-1)
    assert await core.disposal.close_unrated() == 0 and case_row(core, case.id).state == "resolved"
    clock.advance(seconds=1)
    mark = last_outbox_id(core)
    assert await core.disposal.close_unrated() == 1
    row = case_row(core, case.id)
    assert (row.state, row.rating, row.closed_at) == ("closed", "none", clock.now())
    assert deadlines(core, case.id)["rating"].status == "lapsed"
    assert events(core, case.id, "closed")[0].actor_role == "system"
    assert outbox(core, mark) == [("notice", CITIZEN, "n_closed_unrated"), ("refresh_card", STREET_CHAT, None)]
    assert await core.disposal.close_unrated() == 0
    # the rating deadline never nags anyone
    assert await core.deadlines.fire_due() == 0

"""The lifecycle table (cases/states.py) and the core agree: each action is taken from exactly the
states the table allows, whatever state a case is in."""

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from cases.states import (
    CALL_TRANSITIONS,
    TRANSITIONS,
    Action,
    CallAction,
    CaseState,
    may,
)
from storage.models import Call, Case, Deadline
from tests.unit.support import (
    CITY_MGMT,
    COMMAND,
    HANDLER,
    STREET,
    STREET_CHAT,
    called,
    case_row,
    deadlines,
    photo,
    report,
    rows,
)


def force(core, model, row_id: int, **values) -> None:
    with Session(core.db.sync_engine) as session, session.begin():
        session.execute(update(model).where(model.id == row_id).values(**values))


def test_every_state_is_reached_and_only_closed_and_withdrawn_end_a_case():
    reached, todo = set(), [CaseState.UNROUTED, CaseState.ROUTED]  # where intake puts a case
    while todo:
        state = todo.pop()
        if state in reached:
            continue
        reached.add(state)
        todo += [t.to for t in TRANSITIONS.values() if state in t.allowed and t.to]
    assert reached == set(CaseState)
    leaving = {s for t in TRANSITIONS.values() if t.to for s in t.allowed}
    assert set(CaseState) - leaving == {CaseState.WITHDRAWN}, "withdrawn is final; closed only reopens by phone"
    assert {s for a, t in TRANSITIONS.items() if a != Action.LATE_RATING for s in t.allowed} & {
        CaseState.CLOSED, CaseState.WITHDRAWN} == set()


def test_the_table_says_what_the_mechanism_says():
    """Written out by hand from DESIGN.md, so that a change to the table is a decision, not a slip."""
    expected = {
        "route": ({"unrouted"}, "routed"), "accept": ({"routed"}, "accepted"),
        "hand_back": ({"routed", "accepted"}, "unrouted"), "withdraw": ({"unrouted", "routed"}, "withdrawn"),
        "call": ({"accepted"}, None), "resolve": ({"accepted"}, "resolved"), "reopen": ({"resolved"}, "accepted"),
        "close": ({"resolved"}, "closed"), "take_over": ({"accepted"}, None), "check_in": ({"accepted"}, None),
        "assign": ({"unrouted", "routed", "accepted"}, "routed"), "hold": ({"resolved"}, "verifying"),
        "verify": ({"verifying"}, "resolved"), "verify_fail": ({"verifying"}, "accepted"),
        "late_rating": ({"closed"}, "resolved"),
    }
    assert {str(a): ({str(s) for s in t.allowed}, t.to and str(t.to)) for a, t in TRANSITIONS.items()} == expected


@pytest.mark.parametrize("state", list(CaseState))
async def test_accept_and_hand_back_follow_the_table_in_every_state(core, state):
    case = await report(core)
    force(core, Case, case.id, state=state, street=STREET)
    accepted = await core.lifecycle.accept(case.id, HANDLER, "Wenquan handler", STREET_CHAT)
    assert accepted.ok == may(Action.ACCEPT, state), accepted.key
    after_accept = case_row(core, case.id).state
    assert after_accept == (CaseState.ACCEPTED if accepted.ok else state)

    back = await core.lifecycle.not_ours(case.id, HANDLER, STREET_CHAT, "不是本街道")
    assert back.ok == may(Action.HAND_BACK, after_accept), back.key
    assert case_row(core, case.id).state == (CaseState.UNROUTED if back.ok else after_accept)


@pytest.mark.parametrize("state", list(CaseState))
async def test_a_resolve_and_a_route_only_from_their_states(core, state):
    case = await report(core)
    force(core, Case, case.id, state=state, street=STREET, handler_id=HANDLER)
    resolved = await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "已修复", photo(9))
    assert resolved.ok == may(Action.RESOLVE, state), resolved.key
    if resolved.ok:  # road_damage does not wait for a verifier
        assert case_row(core, case.id).state == CaseState.RESOLVED
    force(core, Case, case.id, state=state)
    routed = await core.lifecycle.route_manually(case.id, STREET, 7001, COMMAND)
    assert routed.ok == may(Action.ROUTE, state), routed.key


@pytest.mark.parametrize("status", ["pending", "answered", "checked_in", "declined"])
async def test_a_department_answers_and_declines_only_a_live_call(core, clock, status):
    case, calls = await called(core, clock)
    call = calls[0]
    force(core, Call, call.id, status=status)
    chat = core.directory.department_chat(call.department)
    answered = await core.disposal.answer_call(call.id, 6001, "城管", chat)
    assert answered.ok == (status in CALL_TRANSITIONS[CallAction.ANSWER].allowed), answered.key
    force(core, Call, call.id, status=status)
    declined = await core.disposal.decline_call(call.id, 6001, "城管", chat, "不归我们")
    assert declined.ok == (status in CALL_TRANSITIONS[CallAction.DECLINE].allowed), declined.key


async def test_a_calls_deadlines_name_their_call_and_the_cases_own_on_site_deadline_stays_apart(core, clock):
    case, [call] = await called(core, clock)  # road damage: the case has its own on-site deadline too
    stored = {(d.kind, d.call_id) for d in rows(core, Deadline, Deadline.case_id == case.id)}
    assert stored == {("respond", None), ("checkin", None), ("resolve", None), ("answer", call.id),
                      ("checkin", call.id)}
    await core.disposal.answer_call(call.id, 6100, "Staff", CITY_MGMT)  # the call's answer, nothing of the case's
    dl = deadlines(core, case.id)
    assert (dl[f"answer:{call.id}"].status, dl[f"checkin:{call.id}"].status, dl["checkin"].status) == \
        ("met", "open", "open")


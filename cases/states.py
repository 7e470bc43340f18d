"""The case lifecycle as data: states, call and deadline statuses, and which action moves what.

Every place that asks "may this happen now?" reads it here: the core's conditional UPDATEs
(`WHERE state IN allowed(action)`), the cards' keyboards and the handlers' early checks. The values
are the strings stored in the database (StrEnum: a member *is* its string), so no migration.

    unrouted ──route──► routed ──accept──► accepted ──resolve──► resolved ──close──► closed
       ▲                  │                 ▲  ▲                    │ ▲ hold    (rated, or the
       └──── hand back ───┴─────────────────┘  └───── reopen ───────┘ ▼         window passed)
                                               └──── verify fails ── verifying ──verify──► resolved
    unrouted / routed ──withdraw──► withdrawn          closed unrated ──late rating──► resolved
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseState(StrEnum):
    UNROUTED = "unrouted"  # no street yet: the command centre places it
    ROUTED = "routed"  # in a street's group, waiting for its handler
    ACCEPTED = "accepted"  # a handler owns it: calls, check-ins, resolution
    RESOLVED = "resolved"  # fixed, waiting for the citizen's rating
    VERIFYING = "verifying"  # fixed, waiting for a grid worker to confirm it on site first
    CLOSED = "closed"  # rated, or the rating window passed
    WITHDRAWN = "withdrawn"  # taken back by the citizen before anyone accepted it


class Action(StrEnum):
    ROUTE = "route"  # the command centre places an unrouted case (tap or location)
    ACCEPT = "accept"
    HAND_BACK = "hand_back"  # 不是本街镇: back to the command centre
    WITHDRAW = "withdraw"
    CALL = "call"  # call departments (一线呼叫)
    RESOLVE = "resolve"
    REOPEN = "reopen"  # 不满意, or a verifier found it not fixed
    CLOSE = "close"  # a rating other than 不满意, or the rating window lapsed
    TAKE_OVER = "take_over"  # a deputy acts for an absent handler: the state stays
    CHECK_IN = "check_in"  # the street's own handler on site: the state stays
    ASSIGN = "assign"  # the duty leader gives a difficult case to a street (or calls a department)
    HOLD = "hold"  # a category that verifies: resolved waits for the grid worker
    VERIFY = "verify"  # the grid worker confirms it fixed
    VERIFY_FAIL = "verify_fail"  # ... or not: back to the street
    LATE_RATING = "late_rating"  # the hotline's 回访 rates a case that closed unrated


@dataclass(frozen=True)
class Transition:
    allowed: frozenset  # of CaseState, or of CallStatus for a call's action
    to: CaseState | CallStatus | None  # None: the state does not change


def _t(allowed: tuple, to) -> Transition:
    return Transition(frozenset(allowed), to)


S = CaseState
TRANSITIONS: dict[Action, Transition] = {
    Action.ROUTE: _t((S.UNROUTED,), S.ROUTED),
    Action.ACCEPT: _t((S.ROUTED,), S.ACCEPTED),
    Action.HAND_BACK: _t((S.ROUTED, S.ACCEPTED), S.UNROUTED),
    Action.WITHDRAW: _t((S.UNROUTED, S.ROUTED), S.WITHDRAWN),
    Action.CALL: _t((S.ACCEPTED,), None),
    Action.RESOLVE: _t((S.ACCEPTED,), S.RESOLVED),
    Action.REOPEN: _t((S.RESOLVED,), S.ACCEPTED),
    Action.CLOSE: _t((S.RESOLVED,), S.CLOSED),
    Action.TAKE_OVER: _t((S.ACCEPTED,), None),
    Action.CHECK_IN: _t((S.ACCEPTED,), None),
    Action.ASSIGN: _t((S.UNROUTED, S.ROUTED, S.ACCEPTED), S.ROUTED),
    Action.HOLD: _t((S.RESOLVED,), S.VERIFYING),
    Action.VERIFY: _t((S.VERIFYING,), S.RESOLVED),
    Action.VERIFY_FAIL: _t((S.VERIFYING,), S.ACCEPTED),
    Action.LATE_RATING: _t((S.CLOSED,), S.RESOLVED),
}

DONE_STATES = frozenset({S.RESOLVED, S.CLOSED})  # the problem was solved (Open311's "closed")
# VERIFYING is neither: the street is done, the verifier is not; WITHDRAWN is neither either.


class CallStatus(StrEnum):
    PENDING = "pending"  # called, not yet answered
    ANSWERED = "answered"  # 已响应: on the way
    CHECKED_IN = "checked_in"  # 已到场
    DECLINED = "declined"  # 不是本部门


class CallAction(StrEnum):
    ANSWER = "answer"
    CHECK_IN = "check_in"
    DECLINE = "decline"
    NOTE = "note"  # the department adds a note for the street: any call it has not declined


C = CallStatus
CALL_TRANSITIONS: dict[CallAction, Transition] = {
    CallAction.ANSWER: _t((C.PENDING,), C.ANSWERED),
    CallAction.CHECK_IN: _t((C.PENDING, C.ANSWERED), C.CHECKED_IN),
    CallAction.DECLINE: _t((C.PENDING, C.ANSWERED), C.DECLINED),
    CallAction.NOTE: _t((C.PENDING, C.ANSWERED, C.CHECKED_IN), None),
}
LIVE_CALLS = CALL_TRANSITIONS[CallAction.DECLINE].allowed  # a call still waiting for its department


def _rule(action: Action | CallAction) -> Transition:
    # By type, not by value: Action.CHECK_IN and CallAction.CHECK_IN are the same string.
    return CALL_TRANSITIONS[action] if isinstance(action, CallAction) else TRANSITIONS[action]


def allowed(action: Action | CallAction) -> tuple[str, ...]:
    """The states (of a case, or of a call) `action` may start from, for a `WHERE … IN (...)` (sorted:
    stable SQL)."""
    return tuple(sorted(_rule(action).allowed))


def may(action: Action | CallAction, state: str | None) -> bool:
    return state in _rule(action).allowed


def target(action: Action | CallAction) -> CaseState | CallStatus:
    to = _rule(action).to
    if to is None:
        raise ValueError(f"{action} keeps the state")
    return to


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class DeadlineKind(StrEnum):
    RESPOND = "respond"  # the street's handler accepts (10 minutes)
    ASSIGN = "assign"  # the command centre places an unrouted case
    RESOLVE = "resolve"  # 4 hours or 1 working day by category
    RATING = "rating"  # the citizen's rating window (not escalated)
    VERIFY = "verify"  # a grid worker's on-site verification
    ANSWER = "answer"  # a called department answers (a call's, with its call_id)
    CHECKIN = "checkin"  # on site: the case's own (limits.checkin), or a called department's (with call_id)


PER_CALL = (DeadlineKind.ANSWER, DeadlineKind.CHECKIN)  # both deadlines every call has

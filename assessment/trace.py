"""Reading the trace for a period: the cases received in it, their calls, deadlines and extensions.

Plain SQL on a synchronous connection, one query per table, rows as tuples from the driver's cursor
(a month of 85,000 cases with their calls and deadlines: about 3 s, docs/BENCHMARKS.md). The bot runs
this in a separate process, never on its event loop. Times are stored as naive UTC text by SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text


def _t(value) -> datetime | None:
    """Naive UTC, as stored: a report compares and subtracts these only among themselves (a million
    tz-aware conversions cost more than the rest of the reading)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _db(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def local(value: datetime | None, tz) -> datetime | None:
    """A trace time (naive UTC) in local time, naive, for display."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz).replace(tzinfo=None)


@dataclass(slots=True)
class CaseRow:
    id: int
    number: str
    street: str | None
    grid: str | None
    category: str
    state: str
    created: datetime
    accepted: datetime | None
    resolved: datetime | None
    closed: datetime | None
    rating: str | None  # satisfied | mostly | none (closed unrated) | None
    reopens: int
    difficult: bool
    lat: float
    lon: float
    handler: str | None
    place: str | None
    reported_by_grid: str | None

    @property
    def unit(self) -> str:
        return self.street or "指挥中心"

    @property
    def last_rating(self) -> str | None:
        """The citizen's last verdict. "Not satisfied" reopens the case and is not kept on it, but every
        reopening is one, so a case reopened and not rated satisfied since was last rated unsatisfied."""
        if self.rating in ("satisfied", "mostly"):
            return self.rating
        return "unsatisfied" if self.reopens else None

    @property
    def outcome(self) -> str:
        if self.state == "closed":
            return "closed"
        if self.state == "resolved":
            return "resolved"
        return "open"


@dataclass(slots=True)
class CallRow:
    id: int
    case_id: int
    department: str
    status: str
    created: datetime
    answered: datetime | None
    checked_in: datetime | None
    answered_by: str | None
    checked_in_by: str | None
    street_rating: str | None
    department_rating: str | None


@dataclass(slots=True)
class DeadlineRow:
    case_id: int
    kind: str  # respond | assign | checkin | resolve | answer | checkin_call
    call_id: int | None
    status: str
    level: int
    on_time: bool | None  # None: not judged (cancelled, or open and not yet due); see judge()


def judge(status: str, due: datetime, closed: datetime | None, now: datetime) -> bool | None:
    """On time: met at or before due. Late: met after it, lapsed, or open past it. (The same rule runs
    in SQL in load(), over the stored text, which sorts as time does.)"""
    if status == "met":
        return closed <= due
    if status == "lapsed" or (status == "open" and now > due):
        return False
    return None


@dataclass
class Trace:
    cases: list[CaseRow]
    calls: list[CallRow]
    deadlines: list[DeadlineRow]
    extended: set[int]  # case ids with an approved extension


_CASES = ("SELECT id, number, street, grid, category, state, created_at, accepted_at, resolved_at, closed_at, "
          "rating, reopen_count, difficult, lat, lon, handler_name, place_title, reported_by_grid FROM cases "
          "WHERE created_at >= :a AND created_at < :b ORDER BY id")
_IN = "IN (SELECT id FROM cases WHERE created_at >= :a AND created_at < :b)"


def _rows(conn, sql: str, params: dict) -> list[tuple]:
    """The driver's own cursor on SQLite (SQLAlchemy's row objects cost more than the query here)."""
    raw = getattr(conn.connection, "driver_connection", None)
    if conn.dialect.name == "sqlite" and raw is not None:
        return raw.execute(sql, params).fetchall()
    return [tuple(r) for r in conn.execute(text(sql), params)]


def load(conn, start: datetime, end: datetime, now: datetime) -> Trace:
    """Everything about the cases received in [start, end), as of `now`."""
    p = {"a": _db(start), "b": _db(end), "now": _db(now)}
    cases = [CaseRow(r[0], r[1], r[2], r[3], r[4], r[5], _t(r[6]), _t(r[7]), _t(r[8]), _t(r[9]), r[10], r[11] or 0,
                     bool(r[12]), r[13], r[14], r[15], r[16], r[17])
             for r in _rows(conn, _CASES, p)]
    calls = [CallRow(r[0], r[1], r[2], r[3], _t(r[4]), _t(r[5]), _t(r[6]), r[7], r[8], r[9], r[10])
             for r in _rows(conn,
                            "SELECT id, case_id, department, status, created_at, answered_at, checked_in_at, "
                            "answered_by_name, checked_in_by_name, street_rating, department_rating FROM calls "
                            f"WHERE case_id {_IN}", p)]
    deadlines = []
    kinds = {}
    for case_id, kind, status, level, on_time in _rows(conn, (
            "SELECT case_id, kind, status, level, CASE WHEN status = 'met' THEN "
            "(CASE WHEN closed_at <= due_at THEN 1 ELSE 0 END) "
            "WHEN status = 'lapsed' OR (status = 'open' AND due_at < :now) THEN 0 END FROM deadlines "
            f"WHERE kind != 'rating' AND case_id {_IN}"), p):
        if kind not in kinds:
            what, _, call = kind.partition(":")
            kinds[kind] = (("answer" if what == "answer" else "checkin_call"), int(call)) if call else (kind, None)
        what, call_id = kinds[kind]
        deadlines.append(DeadlineRow(case_id, what, call_id, status, level or 0,
                                     None if on_time is None else bool(on_time)))
    extended = {r[0] for r in _rows(
        conn, f"SELECT DISTINCT case_id FROM extensions WHERE status = 'approved' AND case_id {_IN}", p)}
    return Trace(cases, calls, deadlines, extended)

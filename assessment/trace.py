"""Reading the trace for a period: the cases received in it, their calls, deadlines and extensions.

Plain SQL on a synchronous connection, one query per table, rows as tuples from the driver's cursor
(a month of 85,000 cases with their calls and deadlines: about 3 s, docs/BENCHMARKS.md). The bot runs
this in a separate process, never on its event loop. Times are stored as naive UTC text by SQLAlchemy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text


def _parser(conn) -> Callable:
    """Stored time → naive UTC datetime, as stored: SQLite gives text, PostgreSQL's driver a datetime. A report
    compares and subtracts these only among themselves (a million tz-aware conversions cost more than the
    rest of the reading); the comprehensions call it inline (`r[7] and iso(r[7])`) for the same reason."""
    return datetime.fromisoformat if conn.dialect.name == "sqlite" else _same


def _same(value):
    return value


def _db(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def cases_between(conn, start: datetime, end: datetime) -> int:
    """How many cases came in between start and end (what the report would read; an index count)."""
    return conn.execute(text("SELECT count(*) FROM cases WHERE created_at >= :a AND created_at < :b"),
                        {"a": _db(start), "b": _db(end)}).scalar_one()


def local(value: datetime | None, tz) -> datetime | None:
    """A trace time (naive UTC) in local time, naive, for display."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz).replace(tzinfo=None)


def localizer(tz, start: datetime, end: datetime) -> Callable[[datetime], datetime]:
    """local() for trace times between start and end, made cheap for a report's hundreds of thousands of
    times: when the zone keeps one offset over the span (China has since 1991) a time is shifted by it;
    a span with a change of offset (summer time) converts each time by the zone's rules."""
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))  # trace times: naive UTC
    step, at, offsets = timedelta(hours=6), start, set()
    while at <= end + step:  # offsets change for months, never for less than a day: 6-hourly samples see it
        offsets.add(at.astimezone(tz).utcoffset())
        at += step
    if len(offsets) == 1:
        shift = offsets.pop()
        return lambda value: value and value + shift  # None stays None, as with local()
    return lambda value: local(value, tz)


def unit_of(street: str | None) -> str:
    """The unit a case counts for: its street, or the command centre while no street has it."""
    return street or "指挥中心"


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
        return unit_of(self.street)

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
    answered_on_time: bool | None = None  # its answer deadline's verdict (the latest, if extended)
    on_site_on_time: bool | None = None  # its on-site deadline's verdict
    level: int = 0  # the highest escalation level its deadlines reached


@dataclass(slots=True)
class DeadlineRow:
    """Deadlines alike in everything a tally reads, counted (`n`): a month's 283,000 deadlines are ~1,900 of
    these, grouped while they are read (`_grouped`; docs/BENCHMARKS.md)."""
    kind: str  # respond | assign | checkin | resolve | verify | answer | checkin_call
    status: str
    level: int
    on_time: bool | None  # None: not judged (cancelled, or open and not yet due); see _DEADLINES
    street: str | None  # the case's street, grid cell and handler
    grid: str | None
    handler: str | None
    for_call: bool  # a call's deadline (answer, checkin_call): counted for its department, not the street
    department: str | None  # the call's department (None: the call is gone)
    who: str | None  # the call's staff who answered (answer) or checked in (checkin_call)
    n: int = 1


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
_CALLS = ("SELECT id, case_id, department, status, created_at, answered_at, checked_in_at, answered_by_name, "
          f"checked_in_by_name, street_rating, department_rating FROM calls WHERE case_id {_IN}")
_EXTENDED = f"SELECT DISTINCT case_id FROM extensions WHERE status = 'approved' AND case_id {_IN}"
# The period's deadlines, driven from its cases (the created_at index, then each case's deadlines), each
# judged as of :now over the stored times, which sort as time does (docs/METRICS.md, Deadlines): on time
# when met at or before due; late when met after it, lapsed, or open past it; otherwise not judged.
_DEADLINES = ("SELECT d.id, d.case_id, d.kind, d.call_id, d.status, COALESCE(d.level, 0), CASE WHEN d.status = "
              "'met' THEN (CASE WHEN d.closed_at <= d.due_at THEN 1 ELSE 0 END) WHEN d.status = 'lapsed' OR "
              "(d.status = 'open' AND d.due_at < :now) THEN 0 END FROM cases c JOIN deadlines d ON d.case_id = c.id "
              "WHERE c.created_at >= :a AND c.created_at < :b AND d.kind != 'rating'")


def _rows(conn, sql: str, params: dict) -> list[tuple]:
    """The driver's own cursor on SQLite (SQLAlchemy's row objects cost more than the query here)."""
    raw = getattr(conn.connection, "driver_connection", None)
    if conn.dialect.name == "sqlite" and raw is not None:
        return raw.execute(sql, params).fetchall()
    return [tuple(r) for r in conn.execute(text(sql), params)]


def _grouped(rows, cases: dict[int, CaseRow], calls: dict[int, CallRow]) -> list[DeadlineRow]:
    """Deadlines counted by what a tally reads (grouped here: SQLite's GROUP BY over ten columns took
    longer than reading the rows), and each call's verdicts and highest level set on the call."""
    groups, latest = Counter(), {}
    for deadline_id, case_id, kind, call_id, status, level, on_time in rows:
        c, on_time = cases[case_id], None if on_time is None else bool(on_time)
        if call_id is None:
            groups[(kind, status, level, on_time, c.street, c.grid, c.handler, False, None, None)] += 1
            continue
        call, what = calls.get(call_id), "answer" if kind == "answer" else "checkin_call"
        who = call and (call.answered_by if what == "answer" else call.checked_in_by)
        groups[(what, status, level, on_time, c.street, c.grid, c.handler, True, call and call.department, who)] += 1
        if call is None:
            continue
        call.level = max(call.level, level)
        if deadline_id > latest.get((call.id, what), 0):  # an extended deadline's verdict is its latest
            latest[(call.id, what)] = deadline_id
            if what == "answer":
                call.answered_on_time = on_time
            else:
                call.on_site_on_time = on_time
    return [DeadlineRow(*key, n) for key, n in groups.items()]


def load(conn, start: datetime, end: datetime, now: datetime) -> Trace:
    """Everything about the cases received in [start, end), as of `now`."""
    p = {"a": _db(start), "b": _db(end), "now": _db(now)}
    iso = _parser(conn)
    cases = [CaseRow(r[0], r[1], r[2], r[3], r[4], r[5], iso(r[6]), r[7] and iso(r[7]), r[8] and iso(r[8]),
                     r[9] and iso(r[9]), r[10], r[11] or 0, bool(r[12]), r[13], r[14], r[15], r[16], r[17])
             for r in _rows(conn, _CASES, p)]
    calls = [CallRow(r[0], r[1], r[2], r[3], iso(r[4]), r[5] and iso(r[5]), r[6] and iso(r[6]), r[7], r[8], r[9],
                     r[10]) for r in _rows(conn, _CALLS, p)]
    deadlines = _grouped(_rows(conn, _DEADLINES, p), {c.id: c for c in cases}, {call.id: call for call in calls})
    extended = {r[0] for r in _rows(conn, _EXTENDED, p)}
    return Trace(cases, calls, deadlines, extended)

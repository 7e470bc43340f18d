"""The rates of docs/METRICS.md, tallied per unit (district, street, department, grid) and per person.

A Tally only counts; every rate is a property that is None when its denominator is 0 (shown as "—",
never as 0 % or 100 %).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from statistics import median
from zoneinfo import ZoneInfo

from assessment.trace import CaseRow, DeadlineRow, Trace, localizer, unit_of

# Which deadline kinds feed which on-time rate.
ON_TIME = {"respond": "respond", "answer": "answer", "checkin": "onsite", "checkin_call": "onsite",
           "resolve": "resolve"}


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (p90 of 10 values is the 9th): no interpolation, a value that happened."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-int(q * 100) * len(s) // 100) - 1))]


@dataclass
class Tally:
    received: int = 0
    resolved: int = 0  # resolved or closed now
    rated: int = 0
    satisfied: int = 0  # 满意 + 基本满意 (last verdict)
    unsatisfied: int = 0
    unrated_closed: int = 0  # closed without the citizen's rating (timeout)
    reopened: int = 0
    difficult: int = 0
    extended: int = 0
    on_time: Counter = field(default_factory=Counter)  # kind -> deadlines met in time
    judged: Counter = field(default_factory=Counter)  # kind -> deadlines judged
    overdue: int = 0  # deadlines late (met late, or open past due)
    calls: int = 0
    accurate: int = 0
    dept_rated: int = 0  # calls the department rated (准确 / 不准确)
    good: int = 0
    street_rated: int = 0  # calls the street rated (好 / 一般 / 差)
    minutes: dict = field(default_factory=lambda: defaultdict(list))  # respond | arrive | resolve -> minutes
    cases: list = field(default_factory=list)  # case numbers behind the figures

    def add_case(self, c: CaseRow, extended: bool) -> None:
        self.received += 1
        self.cases.append(c.number)
        if c.state in ("resolved", "closed"):
            self.resolved += 1
            self.minutes["resolve"].append((c.resolved - c.created).total_seconds() / 60)
        last = c.last_rating
        if last:
            self.rated += 1
            self.satisfied += last != "unsatisfied"
            self.unsatisfied += last == "unsatisfied"
        elif c.rating == "none":
            self.unrated_closed += 1
        self.reopened += c.reopens > 0
        self.difficult += c.difficult
        self.extended += extended
        if c.accepted:
            self.minutes["respond"].append((c.accepted - c.created).total_seconds() / 60)

    def merge(self, other: Tally) -> None:
        """Add another tally's counts (cases alike are tallied once, then merged into each unit they count for)."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, int):
                setattr(self, f.name, mine + theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:  # minutes: what -> list
                for what, values in theirs.items():
                    mine[what].extend(values)

    def add_deadline(self, d: DeadlineRow) -> None:
        if d.on_time is None:
            return
        kind = ON_TIME.get(d.kind)
        if kind:
            self.judged[kind] += d.n
            self.on_time[kind] += d.n * d.on_time
        self.overdue += d.n * (not d.on_time)

    def add_calls(self, n: int, street_rating: str | None, department_rating: str | None,
                  arrive: list[float]) -> None:
        """n calls alike in their two ratings (None: a verdict this unit's rate does not count), and the
        minutes from each call to its check-in."""
        self.calls += n
        if department_rating:
            self.dept_rated += n
            self.accurate += n * (department_rating == "accurate")
        if street_rating:
            self.street_rated += n
            self.good += n * (street_rating == "good")
        self.minutes["arrive"].extend(arrive)

    # ---- rates ---------------------------------------------------------------------------------------
    closure_rate = property(lambda s: _rate(s.resolved, s.received))  # 办结率
    satisfaction_rate = property(lambda s: _rate(s.satisfied, s.rated))  # 满意率
    unsatisfied_rate = property(lambda s: _rate(s.unsatisfied, s.rated))  # 不满意率
    reopen_rate = property(lambda s: _rate(s.reopened, s.received))  # 重办率
    respond_on_time = property(lambda s: _rate(s.on_time["respond"], s.judged["respond"]))
    answer_on_time = property(lambda s: _rate(s.on_time["answer"], s.judged["answer"]))
    onsite_on_time = property(lambda s: _rate(s.on_time["onsite"], s.judged["onsite"]))
    resolve_on_time = property(lambda s: _rate(s.on_time["resolve"], s.judged["resolve"]))
    call_accuracy = property(lambda s: _rate(s.accurate, s.dept_rated))  # 呼叫准确率
    good_rate = property(lambda s: _rate(s.good, s.street_rated))  # 部门好评率

    def median(self, what: str) -> float | None:
        return median(self.minutes[what]) if self.minutes[what] else None

    def p90(self, what: str) -> float | None:
        return _quantile(self.minutes[what], 0.9)


@dataclass
class CallAssessment:
    """一呼叫一考核: one call's record, derived from the trace at report time (docs/METRICS.md)."""
    call_id: int
    number: str
    street: str
    department: str
    status: str
    answered_on_time: bool | None
    on_site_on_time: bool | None
    street_rating: str | None
    department_rating: str | None
    level: int  # highest escalation level its deadlines reached: 0 none, 1 unit, 2 deputy, 3 chief, 4 command
    answered_by: str | None
    checked_in_by: str | None


@dataclass
class Person:
    name: str
    role: str  # handler | answered | checked_in | deputy | chief
    unit: str
    tally: Tally = field(default_factory=Tally)
    reached: int = 0  # deputy / chief: deadlines that climbed to them
    reached_met: int = 0  # … of which were met in the end


@dataclass
class Assessment:
    district: Tally
    streets: dict[str, Tally]
    departments: dict[str, Tally]
    grids: dict[str, Tally]
    persons: list[Person]
    calls: list[CallAssessment]
    by_day: dict  # date -> Counter(outcome)
    category_street: Counter  # (category, street) -> cases
    places: Counter  # grid cell or place -> cases
    trace: Trace


def assess(trace: Trace, tz: ZoneInfo, dept_names: dict[str, str] | None = None,
           chains: dict[str, dict] | None = None) -> Assessment:
    """Tally the trace (its deadlines already judged as of the report's time). dept_names: key -> 中文名
    (the unit's name in chains and reports); chains: unit ->
    {"deputy": (name, id), "chief": (name, id)} as in the core's settings."""
    dept_names, chains = dept_names or {}, chains or {}
    district, streets, departments, grids = Tally(), defaultdict(Tally), defaultdict(Tally), defaultdict(Tally)
    persons: dict[tuple, Person] = {}
    by_day, category_street, places = defaultdict(Counter), Counter(), Counter()

    def person(name, role, unit) -> Person:
        key = (name, role, unit)
        if key not in persons:
            persons[key] = Person(name, role, unit)
        return persons[key]

    cases = {c.id: c for c in trace.cases}
    alike: dict[tuple, Tally] = defaultdict(Tally)  # cases tallied once per (street, grid, handler), then merged
    day = localizer(tz, min(cases.values(), key=lambda c: c.created).created,
                    max(cases.values(), key=lambda c: c.created).created) if cases else None
    for c in trace.cases:
        alike[(c.unit, c.grid, c.handler)].add_case(c, c.id in trace.extended)
        by_day[day(c.created).date()][c.outcome] += 1
        category_street[(c.category, c.unit)] += 1
        places[c.grid or c.reported_by_grid or c.place or f"{c.lat:.3f},{c.lon:.3f}"] += 1

    for (unit, grid, handler), t in alike.items():
        for tally in (district, streets[unit], grids[grid] if grid else None,
                      person(handler, "handler", unit).tally if handler else None):
            if tally is not None:
                tally.merge(t)

    for d in trace.deadlines:
        district.add_deadline(d)
        if d.for_call:
            unit = dept_names.get(d.department, d.department) if d.department else "?"
            if d.department:
                departments[d.department].add_deadline(d)
                if d.who:
                    person(d.who, "answered" if d.kind == "answer" else "checked_in", unit).tally.add_deadline(d)
        else:
            unit = unit_of(d.street)
            streets[unit].add_deadline(d)
            if d.grid:
                grids[d.grid].add_deadline(d)
            if d.handler:
                person(d.handler, "handler", unit).tally.add_deadline(d)
        for level, role in ((2, "deputy"), (3, "chief")):  # the chain: whose desk the lapse reached
            if d.level >= level and (who := chains.get(unit, {}).get(role)):
                p = person(who.name, role, unit)
                p.reached += d.n
                p.reached_met += d.n * (d.status == "met")

    assessments, alike_calls = [], defaultdict(lambda: [0, []])  # calls counted by what a tally reads
    for call in trace.calls:
        c = cases[call.case_id]
        tally = alike_calls[(call.department, c.unit, call.street_rating, call.department_rating)]
        tally[0] += 1
        if call.checked_in:
            tally[1].append((call.checked_in - call.created).total_seconds() / 60)
        if call.answered_by:
            person(call.answered_by, "answered", dept_names.get(call.department, call.department)).tally.calls += 1
        assessments.append(CallAssessment(
            call.id, c.number, c.unit, dept_names.get(call.department, call.department), call.status,
            call.answered_on_time, call.on_site_on_time, call.street_rating, call.department_rating, call.level,
            call.answered_by, call.checked_in_by))
    for (department, unit, street_rating, department_rating), (n, arrive) in alike_calls.items():
        district.add_calls(n, street_rating, department_rating, arrive)
        departments[department].add_calls(n, street_rating, None, arrive)  # 部门好评率: the street's verdict
        streets[unit].add_calls(n, None, department_rating, arrive)  # 呼叫准确率: the department's verdict
    return Assessment(district, dict(streets), dict(departments), dict(grids), list(persons.values()), assessments,
                      dict(by_day), category_street, places, trace)

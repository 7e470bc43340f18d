"""One report: a period's assessment, the previous period's for comparison, the leagues and 共性."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine

from assessment import recurring
from assessment.league import Row, league
from assessment.metrics import Assessment, assess
from assessment.period import Period
from assessment.settings import AssessmentCfg
from assessment.trace import load


@dataclass
class Context:
    """What a report needs from the configuration, as plain data (the core's settings or bot config)."""
    tz: ZoneInfo
    cfg: AssessmentCfg
    dept_names: dict[str, str] = field(default_factory=dict)  # key -> 中文名
    category_names: dict[str, str] = field(default_factory=dict)  # key -> 中文名
    chains: dict[str, dict] = field(default_factory=dict)  # unit -> {"deputy": Person, "chief": Person}


@dataclass
class Report:
    period: Period
    now: datetime
    current: Assessment
    previous: Assessment  # tallies only: no trace, persons or call records
    leagues: dict[str, list[Row]]  # street | department | grid
    rising: list[recurring.Rising]
    top_category: dict[str, tuple[str, list[str]]]
    clusters: list[recurring.Cluster]
    ctx: Context

    def category(self, key: str) -> str:
        return self.ctx.category_names.get(key, key)

    def department(self, key: str) -> str:
        return self.ctx.dept_names.get(key, key)


@dataclass
class Before:
    """What a report keeps of the period before: its unit tallies and its cases per category. Small and
    picklable, so another process can make it while this one reads the period itself."""
    assessment: Assessment  # without its trace, persons and call records
    categories: Counter


def assessed(conn, p: Period, now: datetime, ctx: Context) -> Assessment:
    start, end = p.bounds(ctx.tz)
    return assess(load(conn, start, end, now), ctx.tz, ctx.dept_names, ctx.chains)


def before(conn, period: Period, now: datetime, ctx: Context) -> Before:
    """The period before `period`, tallied and stripped to what a report shows of it."""
    a = assessed(conn, period.previous(), now, ctx)
    categories = Counter(c.category for c in a.trace.cases)
    a.trace, a.persons, a.calls = None, [], []  # let the rows go: memory on a large month
    return Before(a, categories)


def before_at(url: str, period: Period, now: datetime, ctx: Context) -> Before:
    """before() on its own connection (url: a synchronous SQLAlchemy URL), for a helper process."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return before(conn, period, now, ctx)
    finally:
        engine.dispose()


def build(conn, period: Period, now: datetime, ctx: Context,
          previous: Callable[[], Before] | None = None) -> Report:
    """conn: a synchronous SQLAlchemy connection. Reads the period; `previous` gives the period before once
    this one is tallied (e.g. a result made by another process meanwhile); without it, it is read here
    first, so its rows are gone before the period's are read."""
    if previous is None:
        made = before(conn, period, now, ctx)
        previous = lambda: made  # noqa: E731
    current = assessed(conn, period, now, ctx)
    previous = previous()
    w, floors, prev = ctx.cfg.weights, ctx.cfg.floors, previous.assessment
    leagues = {"street": league(current.streets, w["street"], floors, prev.streets),
               "department": league(current.departments, w["department"], floors, prev.departments),
               "grid": league(current.grids, w["grid"], floors, prev.grids)}
    cases = current.trace.cases
    return Report(period, now, current, prev, leagues, recurring.rising(cases, previous.categories),
                  recurring.top_category(cases),
                  recurring.repeated_places(cases, ctx.cfg.repeat_radius_m, ctx.cfg.repeat_min_cases), ctx)

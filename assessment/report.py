"""One report: a period's assessment, the previous period's for comparison, the leagues and 共性."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

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
    chains: dict[str, dict] = field(default_factory=dict)  # unit -> {"deputy": (name, id), "chief": …}


@dataclass
class Report:
    period: Period
    now: datetime
    current: Assessment
    previous: Assessment  # its trace is dropped once tallied
    leagues: dict[str, list[Row]]  # street | department | grid
    rising: list[recurring.Rising]
    top_category: dict[str, tuple[str, list[str]]]
    clusters: list[recurring.Cluster]
    ctx: Context

    def category(self, key: str) -> str:
        return self.ctx.category_names.get(key, key)

    def department(self, key: str) -> str:
        return self.ctx.dept_names.get(key, key)


def build(conn, period: Period, now: datetime, ctx: Context) -> Report:
    """conn: a synchronous SQLAlchemy connection. Reads the period and the one before it."""
    def assessed(p: Period) -> Assessment:
        start, end = p.bounds(ctx.tz)
        return assess(load(conn, start, end, now), ctx.tz, ctx.dept_names, ctx.chains)

    previous = assessed(period.previous())  # first, so its rows are gone before the period's are read
    before = Counter(c.category for c in previous.trace.cases)
    previous.trace = None  # only its tallies are shown: let the rows go (memory on a large month)
    current = assessed(period)
    w, floors = ctx.cfg.weights, ctx.cfg.floors
    leagues = {"street": league(current.streets, w["street"], floors, previous.streets),
               "department": league(current.departments, w["department"], floors, previous.departments),
               "grid": league(current.grids, w["grid"], floors, previous.grids)}
    cases = current.trace.cases
    return Report(period, now, current, previous, leagues, recurring.rising(cases, before),
                  recurring.top_category(cases),
                  recurring.repeated_places(cases, ctx.cfg.repeat_radius_m, ctx.cfg.repeat_min_cases), ctx)

"""Numbers for leaders: the daily summary (new, resolved, overdue, reopened by street and department)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from storage.models import Call, Case, Deadline, Event
from storage.outbox import enqueue

CENTRE = ""  # the unit of a case no street holds: the command centre (named by ui/summary.py)


@dataclass
class DailySummary:
    """A day's numbers by unit, as data (ui/summary.py writes them out in the reader's language)."""
    day: date
    new: Counter = field(default_factory=Counter)  # street (CENTRE) -> cases reported that day
    resolved: Counter = field(default_factory=Counter)
    reopened: Counter = field(default_factory=Counter)
    overdue: Counter = field(default_factory=Counter)  # street (CENTRE) -> its open deadlines past due
    overdue_departments: Counter = field(default_factory=Counter)  # department key -> its calls' deadlines
    # (number, "street" or "department", the street (CENTRE) or department key, deadline kind)
    overdue_cases: list[tuple[str, str, str, str]] = field(default_factory=list)
    grid_reports: Counter = field(default_factory=Counter)  # grid cell -> cases its grid workers reported

    def payload(self) -> dict:
        return {"day": self.day.isoformat(), "new": self.new, "resolved": self.resolved, "reopened": self.reopened,
                "overdue": self.overdue, "overdue_departments": self.overdue_departments,
                "overdue_cases": [list(x) for x in self.overdue_cases], "grid_reports": self.grid_reports}


class DailySummaries:
    """A service, not a mixin of Core: what it needs is given here, and other services add their own data
    to the summary through `parts` (the phone-backs, tomorrow's duty rota)."""

    def __init__(self, db, clock, settings, on_outbox: Callable[[], None],
                 parts: list[Callable[[date], Awaitable[dict]]] | None = None):
        self.db, self.clock, self.settings, self.on_outbox = db, clock, settings, on_outbox
        self.parts = parts or []

    async def daily_summary(self, day: date) -> DailySummary:
        tz, now = self.settings.tz, self.clock.now()
        start = datetime.combine(day, time(0), tzinfo=tz)
        end = start + timedelta(days=1)
        out = DailySummary(day)
        async with self.db.sessions() as session:
            for case in await session.scalars(select(Case).where(Case.created_at >= start, Case.created_at < end)):
                out.new[case.street or CENTRE] += 1
                if case.reported_by_grid:  # a grid worker's report is credited to their grid
                    out.grid_reports[case.reported_by_grid] += 1
            for case in await session.scalars(select(Case).where(Case.resolved_at >= start, Case.resolved_at < end)):
                out.resolved[case.street or CENTRE] += 1
            reopened = await session.scalars(select(Event.case_id).where(
                Event.kind == "reopened", Event.at >= start, Event.at < end))
            for case_id in reopened:
                case = await session.get(Case, case_id)
                out.reopened[case.street or CENTRE] += 1
            late = await session.execute(select(Deadline, Case).join(Case, Case.id == Deadline.case_id).where(
                Deadline.status == "open", Deadline.due_at < now, Deadline.kind != "rating").order_by(Deadline.due_at))
            for deadline, case in late:
                if deadline.call_id is not None:
                    call = await session.get(Call, deadline.call_id)
                    out.overdue_departments[call.department] += 1
                    out.overdue_cases.append((case.number, "department", call.department, deadline.kind))
                else:
                    out.overdue[case.street or CENTRE] += 1
                    out.overdue_cases.append((case.number, "street", case.street or CENTRE, deadline.kind))
        return out

    async def send_daily_summary(self, day: date) -> DailySummary:
        summary = await self.daily_summary(day)
        if self.settings.command_chat:
            now, data = self.clock.now(), summary.payload()
            for part in self.parts:
                data.update(await part(day))
            await self.db.write(lambda session: enqueue(
                session, now, self.settings.command_chat, "daily_summary", None, lang=self.settings.group_lang,
                summary=data))
            self.on_outbox()
        return summary

"""Numbers for leaders: the daily summary (new, resolved, overdue, reopened by street and department)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from cases.core import CoreBase
from storage.models import Call, Case, Deadline, Event
from storage.outbox import enqueue


@dataclass
class DailySummary:
    day: date
    new: Counter = field(default_factory=Counter)  # street -> cases reported that day
    resolved: Counter = field(default_factory=Counter)
    reopened: Counter = field(default_factory=Counter)
    overdue: Counter = field(default_factory=Counter)  # unit (street or department) -> open deadlines past due
    overdue_cases: list[tuple[str, str, str]] = field(default_factory=list)  # (number, unit, deadline kind)
    grid_reports: Counter = field(default_factory=Counter)  # grid cell -> cases its grid workers reported


class StatsMixin(CoreBase):
    async def daily_summary(self, day: date) -> DailySummary:
        tz, now = self.settings.tz, self.now()
        start = datetime.combine(day, time(0), tzinfo=tz)
        end = start + timedelta(days=1)
        out = DailySummary(day)
        async with self.sessions() as session:
            for case in await session.scalars(select(Case).where(Case.created_at >= start, Case.created_at < end)):
                out.new[case.street or "指挥中心"] += 1
                if case.reported_by_grid:  # a grid worker's report is credited to their grid
                    out.grid_reports[case.reported_by_grid] += 1
            for case in await session.scalars(select(Case).where(Case.resolved_at >= start, Case.resolved_at < end)):
                out.resolved[case.street or "指挥中心"] += 1
            reopened = await session.scalars(select(Event.case_id).where(
                Event.kind == "reopened", Event.at >= start, Event.at < end))
            for case_id in reopened:
                case = await session.get(Case, case_id)
                out.reopened[case.street or "指挥中心"] += 1
            late = await session.execute(select(Deadline, Case).join(Case, Case.id == Deadline.case_id).where(
                Deadline.status == "open", Deadline.due_at < now, Deadline.kind != "rating").order_by(Deadline.due_at))
            for deadline, case in late:
                unit = case.street or "指挥中心"
                what = deadline.kind
                if deadline.call_id is not None:
                    call = await session.get(Call, deadline.call_id)
                    unit = self.settings.department_name(call.department)
                out.overdue[unit] += 1
                out.overdue_cases.append((case.number, unit, str(what)))
        return out

    def summary_text(self, s: DailySummary) -> str:
        units = sorted(set(s.new) | set(s.resolved) | set(s.reopened) | set(s.overdue))
        lines = ["单位 | 新增 | 办结 | 超时 | 重办"]
        for u in units:
            lines.append(f"{u} | {s.new[u]} | {s.resolved[u]} | {s.overdue[u]} | {s.reopened[u]}")
        lines.append(f"合计 | {sum(s.new.values())} | {sum(s.resolved.values())} | {sum(s.overdue.values())} | "
                     f"{sum(s.reopened.values())}")
        if s.grid_reports:
            lines.append("网格员上报：" + "，".join(f"{g} {n} 件" for g, n in sorted(s.grid_reports.items())))
        if s.overdue_cases:
            lines.append("超时清单：")
            lines += [f"{number} {unit} {kind}" for number, unit, kind in s.overdue_cases[:30]]
        return "\n".join(lines)

    async def send_daily_summary(self, day: date) -> DailySummary:
        summary = await self.daily_summary(day)
        if self.settings.command_chat:
            now, body = self.now(), self.summary_text(summary)
            for part in getattr(self, "summary_parts", ()):  # other services' lines (phone-backs, duty rota)
                body = "\n".join([body, *await part(day)])
            await self.db.write(lambda session: enqueue(
                session, now, self.settings.command_chat, "notice", None, key="daily_summary",
                lang=self.settings.group_lang, args={"day": day.isoformat(), "body": body}))
            self._on_outbox()
        return summary

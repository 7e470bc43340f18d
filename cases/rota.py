"""The duty rota (两级巡查轮值): district leaders and, per street, town leaders, each on duty for a date
range or for ISO weeks. Difficult cases and the top of a chain go to the district leader on duty that
day and the case's street's leader on duty. The old flat `escalation.duty_leaders` are always on duty."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cases.people import Person


@dataclass(frozen=True)
class Duty:
    name: str
    user_id: int | None
    start: date | None = None  # from (inclusive); None with no weeks: always
    end: date | None = None  # to (inclusive)
    weeks: frozenset[tuple[int, int]] = frozenset()  # (ISO year, ISO week)

    def covers(self, day: date) -> bool:
        if self.weeks:
            return tuple(day.isocalendar())[:2] in self.weeks
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass
class Rota:
    district: list[Duty] = field(default_factory=list)
    streets: dict[str, list[Duty]] = field(default_factory=dict)

    def district_on(self, day: date) -> list[Duty]:
        return [d for d in self.district if d.covers(day)]

    def street_on(self, street: str | None, day: date) -> list[Duty]:
        return [d for d in self.streets.get(street or "", []) if d.covers(day)]

    def on_duty(self, day: date, street: str | None = None) -> list[Person]:
        """Who is told and may decide that day: the district's leaders, then the street's; with ids."""
        people = self.district_on(day) + self.street_on(street, day)
        seen, out = set(), []
        for d in people:
            if d.user_id and d.user_id not in seen:
                seen.add(d.user_id)
                out.append(Person(d.name, d.user_id))
        return out

    def gaps(self, start: date, days: int) -> list[tuple[date, str | None]]:
        """(day, None) for a day without a district leader; (day, street) for a street with a rota but
        nobody that day. A day with nobody on duty must never pass silently."""
        out = []
        for i in range(days):
            day = start + timedelta(days=i)
            if not self.district_on(day):
                out.append((day, None))
            out += [(day, street) for street, duties in self.streets.items()
                    if duties and not any(d.covers(day) for d in duties)]
        return out

    def tomorrow(self, day: date) -> dict:
        """For the daily summary, as data: who is on duty the day after `day`, and the gaps that day."""
        tomorrow = day + timedelta(days=1)
        return {"day": tomorrow.isoformat(), "district": [d.name for d in self.district_on(tomorrow)],
                "streets": {street: [d.name for d in self.street_on(street, tomorrow)] for street in self.streets},
                "gaps": [[d.isoformat(), street] for d, street in self.gaps(tomorrow, 1)]}


def today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()

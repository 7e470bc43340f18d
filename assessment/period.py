"""Report periods: an ISO week, a calendar month or a half year, in the district's local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    kind: str  # week | month | half
    start: date  # first local day
    end: date  # first local day after the period

    @property
    def label(self) -> str:
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-H{1 if self.start.month == 1 else 2}"

    @property
    def zh(self) -> str:
        return {"week": "周报", "month": "月报", "half": "半年报"}[self.kind]

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(0), tzinfo=tz), datetime.combine(self.end, time(0), tzinfo=tz))

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def previous(self) -> Period:
        if self.kind == "week":
            return week_of(self.start - timedelta(days=7))
        if self.kind == "month":
            return month_of(self.start - timedelta(days=1))
        return half_of(self.start - timedelta(days=1))


def week_of(day: date) -> Period:
    start = day - timedelta(days=day.weekday())
    return Period("week", start, start + timedelta(days=7))


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return Period("month", start, end)


def half_of(day: date) -> Period:
    first = day.month <= 6
    start = date(day.year, 1 if first else 7, 1)
    return Period("half", start, date(day.year, 7, 1) if first else date(day.year + 1, 1, 1))


def parse_period(text: str | None, today: date) -> Period:
    """`week` / `month` / `half` (the last complete one), `2026-11`, `2026-W47`, `2026-H2`.
    Raises ValueError with what is accepted."""
    text = (text or "week").strip().lower()
    if text == "week":
        return week_of(today).previous()
    if text == "month":
        return month_of(today).previous()
    if text == "half":
        return half_of(today).previous()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        if 1 <= int(m.group(2)) <= 12:
            return month_of(date(int(m.group(1)), int(m.group(2)), 1))
    if m := re.fullmatch(r"(\d{4})-w(\d{1,2})", text):
        try:
            return week_of(date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
        except ValueError:
            pass
    if m := re.fullmatch(r"(\d{4})-h([12])", text):
        return half_of(date(int(m.group(1)), 1 if m.group(2) == "1" else 7, 1))
    raise ValueError(f"{text!r}: use week, month, half, 2026-11, 2026-W47 or 2026-H2")

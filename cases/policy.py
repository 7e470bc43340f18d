"""Time limits per category: durations like `10m`, `4h`, `2d`, `1wd` (working days)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cases.workdays import WorkCalendar

_DURATION = re.compile(r"^\s*(\d+)\s*(m|h|d|wd)\s*$")


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # m, h, d, wd

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, start: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
        if self.unit == "wd":
            # Working days are local-calendar days: compute in the district's time zone.
            local = calendar.add_workdays(start.astimezone(tz), self.amount)
            return local.astimezone(start.tzinfo)
        return start + self.as_timedelta()

    def as_timedelta(self) -> timedelta:
        if self.unit == "wd":
            raise ValueError("working days depend on the start date")
        return timedelta(minutes={"m": 1, "h": 60, "d": 1440}[self.unit] * self.amount)


def parse_duration(text: str, allow_zero: bool = False) -> Duration:
    m = _DURATION.match(str(text))
    if not m or int(m.group(1)) < (0 if allow_zero else 1):
        raise ValueError(f"{text!r} is not a duration like 10m, 4h, 2d or 1wd")
    return Duration(int(m.group(1)), m.group(2))


# The deadlines a case opens, in the order of its life.
LIMIT_KINDS = ("respond", "assign", "checkin", "resolve")


@dataclass(frozen=True)
class Category:
    key: str
    zh: str
    en: str
    limits: dict[str, Duration] = field(default_factory=dict)  # kind -> duration
    route_to: str = "street"  # street | grid
    verify: str | None = None  # grid | street: the resolution is verified on site before the citizen rates
    verify_limit: Duration | None = None  # limits.verify: how long verification may take (default 1wd)

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def deadlines_for(category: Category, start: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> dict:
    return {kind: d.after(start, calendar, tz) for kind, d in category.limits.items()}


_CLOCK = re.compile(r"^\s*(?:(\d{1,2})[-/.月](\d{1,2})日?\s+)?(\d{1,2})[:：点](\d{2})?分?\s*$")
_UNITS = {"分钟": "m", "分": "m", "min": "m", "小时": "h", "时": "h", "天": "d", "工作日": "wd"}


def parse_due(text: str, now: datetime, calendar: WorkCalendar, tz: ZoneInfo,
              limit: timedelta = timedelta(days=7)) -> datetime | None:
    """A check-in time typed by a handler: `45m`, `3h`, `1wd`, `45分钟`, `2小时`, `16:30` (today, or
    tomorrow when past), `11-24 09:00`. None when it cannot be read, is not ahead or is beyond `limit`."""
    text = text.strip().lower()
    for word, unit in _UNITS.items():
        if text.endswith(word) and text[: -len(word)].strip().isdigit():
            text = text[: -len(word)].strip() + unit
            break
    try:
        due = parse_duration(text).after(now, calendar, tz)
    except ValueError:
        m = _CLOCK.match(text)
        if not m:
            return None
        month, day, hour, minute = (int(g) if g else None for g in m.groups())
        local = now.astimezone(tz)
        try:
            due = local.replace(month=month or local.month, day=day or local.day, hour=hour, minute=minute or 0,
                                second=0, microsecond=0)
        except ValueError:
            return None
        if due <= local and month is None:
            due += timedelta(days=1)
    return due if now < due <= now + limit else None

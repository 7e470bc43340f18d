"""Working days by China's official calendar (make-up workdays included).

chinesecalendar raises NotImplementedError for a year it has no data for; such years fall
back to Monday-Friday plus the holidays/workdays listed in config, and are reported once at
start (see `unknown_years`) instead of crashing a deadline computation.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


class WorkCalendar:
    def __init__(self, extra_holidays: set[date] | None = None, extra_workdays: set[date] | None = None):
        self.extra_holidays = extra_holidays or set()
        self.extra_workdays = extra_workdays or set()
        self._warned: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("chinesecalendar has no data for %s: using weekdays + config holidays", day.year)
            return day.weekday() < 5

    @staticmethod
    def known(year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False

    def add_workdays(self, start: datetime, n: int, day_start: time = time(9, 0)) -> datetime:
        """`start` + n working days at the same local time.

        A start on a rest day counts from the next working day's `day_start`, so a report on
        Saturday is due on Tuesday morning for 1 working day, not on Monday.
        """
        current = start
        if not self.is_workday(current.date()):
            day = current.date()
            while not self.is_workday(day):
                day += timedelta(days=1)
            current = datetime.combine(day, day_start, tzinfo=start.tzinfo)
        day = current.date()
        for _ in range(n):
            day += timedelta(days=1)
            while not self.is_workday(day):
                day += timedelta(days=1)
        return datetime.combine(day, current.timetz())

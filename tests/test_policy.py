from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from cases.policy import parse_due, parse_duration
from cases.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize("text, unit, amount", [("10m", "m", 10), ("4h", "h", 4), ("2d", "d", 2), ("1wd", "wd", 1)])
def test_parse_duration(text, unit, amount):
    d = parse_duration(text)
    assert (d.unit, d.amount) == (unit, amount)


@pytest.mark.parametrize("text", ["", "10", "0m", "-1h", "1w", "ten minutes"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_hours_ignore_the_calendar():
    cal = WorkCalendar()
    start = local(2026, 10, 1, 10, 0)  # National Day: hours still run
    assert parse_duration("4h").after(start, cal, TZ) == local(2026, 10, 1, 14, 0)


def test_one_working_day_on_an_ordinary_week():
    cal = WorkCalendar()
    assert parse_duration("1wd").after(local(2026, 11, 23, 10, 0), cal, TZ) == local(2026, 11, 24, 10, 0)
    # Friday -> Monday
    assert parse_duration("1wd").after(local(2026, 11, 27, 15, 0), cal, TZ) == local(2026, 11, 30, 15, 0)


def test_national_day_holiday_and_make_up_workday():
    cal = WorkCalendar()
    one = parse_duration("1wd")
    # 2026: 1-7 October are the National Day holiday; Saturday 10 October is a make-up workday.
    assert one.after(local(2026, 9, 30, 11, 0), cal, TZ) == local(2026, 10, 8, 11, 0)
    # Reported on a holiday: the clock starts at 09:00 on the first working day.
    assert one.after(local(2026, 10, 3, 16, 0), cal, TZ) == local(2026, 10, 9, 9, 0)
    assert one.after(local(2026, 10, 9, 14, 0), cal, TZ) == local(2026, 10, 10, 14, 0)
    assert parse_duration("2wd").after(local(2026, 10, 10, 8, 0), cal, TZ) == local(2026, 10, 13, 8, 0)


def test_a_year_the_calendar_does_not_know_falls_back_with_config(caplog):
    cal = WorkCalendar(extra_holidays={date(2031, 1, 1)}, extra_workdays={date(2031, 1, 4)})
    assert WorkCalendar.known(2031) is False
    assert cal.is_workday(date(2031, 1, 1)) is False   # config holiday (a Wednesday)
    assert cal.is_workday(date(2031, 1, 4)) is True    # config make-up Saturday
    assert cal.is_workday(date(2031, 1, 5)) is False   # plain Sunday
    assert cal.is_workday(date(2031, 1, 6)) is True    # plain Monday
    assert "no data for 2031" in caplog.text
    due = parse_duration("1wd").after(datetime(2030, 12, 31, 2, 0, tzinfo=UTC), cal, TZ)
    assert due.astimezone(TZ) == local(2031, 1, 2, 10, 0)


NOW = local(2026, 11, 23, 15, 0)  # a Monday afternoon


@pytest.mark.parametrize("text, due", [
    ("45m", local(2026, 11, 23, 15, 45)), ("45分钟", local(2026, 11, 23, 15, 45)),
    ("3小时", local(2026, 11, 23, 18, 0)), ("1wd", local(2026, 11, 24, 15, 0)),
    ("16:30", local(2026, 11, 23, 16, 30)), ("16：30", local(2026, 11, 23, 16, 30)),
    ("9:00", local(2026, 11, 24, 9, 0)),  # past today: tomorrow
    ("11-25 08:30", local(2026, 11, 25, 8, 30)), ("11月25日 8点", local(2026, 11, 25, 8, 0)),
])
def test_parse_due(text, due):
    assert parse_due(text, NOW, WorkCalendar(), TZ) == due


@pytest.mark.parametrize("text", ["等会儿", "", "25:00", "11-20 09:00", "12-30 09:00", "30d", "0m", "2-30 10:00"])
def test_parse_due_refuses_unreadable_past_and_far(text):
    assert parse_due(text, NOW, WorkCalendar(), TZ) is None

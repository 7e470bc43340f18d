"""A small simulated period through the real core, its rates against figures worked out by hand, and the
report's files opened and read back: the PNG charts (Pillow), the workbook (openpyxl), the CJK font."""

import asyncio
import warnings
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from PIL import Image

from assessment.period import parse_period
from bot.config import load_config
from bot.reports.cli import simulate
from bot.reports.files import write_report
from bot.reports.font import missing_glyphs
from bot.reports.workbook import MAX_CELL, listed
from cases.bootstrap import settings_from
from tests.conftest import ROOT

# Every case: garbage (respond 10 min, resolve 4 h), accepted in time, one department called, the call
# answered late (12–15 min after the call, its limit is 10), on site in time (15–55 min, limit 1 h),
# resolved within 2 h, the citizen satisfied, the street rates the department "poor", the department
# rates the call "accurate".
MIX = {"respond_late": 0, "call": 1.0, "answer_late": {"*": 1.0}, "answer_late_by": (12, 15), "arrive_late": 0,
       "resolve": (10, 60), "resolve_late": 0, "ratings": {"satisfied": 1.0}, "street_ratings": {"poor": 1.0},
       "department_ratings": {"accurate": 1.0}, "hotspot": 0, "categories": {"garbage": 1.0}}
N = 12


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    cfg = load_config(ROOT / "config.yaml")
    path = tmp_path_factory.mktemp("sim") / "sim.sqlite3"
    stats = asyncio.run(simulate(cfg, str(path), 1, N, 5, date(2026, 11, 2), MIX, settle=timedelta(days=1)))
    assert stats["reported"] == N
    out = path.parent / "out"
    files = write_report(f"sqlite+aiosqlite:///{path}", settings_from(cfg), parse_period("2026-11", date(2026, 12, 1)),
                         datetime(2026, 12, 1, tzinfo=UTC), out)
    return cfg, files


def test_rates_of_a_simulated_day_match_the_hand_count(simulated):
    _cfg, files = simulated
    d = files.report.current.district
    assert (d.received, d.resolved, d.rated, d.satisfied, d.reopened) == (N, N, N, N, 0)
    assert (d.closure_rate, d.satisfaction_rate, d.reopen_rate) == (1.0, 1.0, 0.0)
    assert (d.respond_on_time, d.answer_on_time, d.onsite_on_time, d.resolve_on_time) == (1.0, 0.0, 1.0, 1.0)
    assert (d.calls, d.call_accuracy, d.good_rate, d.overdue, d.difficult) == (N, 1.0, 0.0, N, 0)
    assert d.median("respond") <= 8 and 15 <= d.median("arrive") <= 55
    assert [a.answered_on_time for a in files.report.current.calls] == [False] * N
    assert [a.on_site_on_time for a in files.report.current.calls] == [True] * N
    assert sum(t.received for t in files.report.current.streets.values()) == N
    assert "办结率 100.00%" in files.text and "及时应答率 0.00%" in files.text


def test_the_charts_are_pngs_with_chinese_that_renders(simulated, tmp_path):
    cfg, files = simulated
    assert [p.name.split("_", 1)[1] for p in files.charts] == [
        "cases_per_day.png", "on_time_by_unit.png", "category_street.png", "top_places.png", "trend.png"]
    for path in files.charts:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width >= 600 and img.height >= 250
            assert len(img.convert("L").getcolors(1 << 16)) > 20  # drawn, not blank
    # Every label the charts use has a glyph in the shipped font, and drawing them warns of none missing.
    labels = "".join([s.name for s in cfg.streets] + [c.zh for c in cfg.categories] + [d.zh for d in cfg.departments]
                     + ["每日诉求件数（按结果）各单位按时率类别×街镇案件最多的网格/地点前与上期对比收件件上期本期",
                        "已办结待评价办理中及时响应应答按时到场办理办结率满意率%"])
    assert missing_glyphs(labels) == set()
    assert missing_glyphs("क") == {"क"}  # the check can fail
    from bot.reports import charts

    def missing_warnings(draw) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw()
        return [str(w.message) for w in caught if "missing from" in str(w.message)]

    assert missing_warnings(lambda: charts.render_all(files.report, tmp_path)) == []

    def tofu():  # the same drawing path with a script the font lacks does warn: the check can fail
        fig = charts._figure(2, 1)
        fig.text(0.1, 0.5, "क")
        fig.savefig(tmp_path / "tofu.png")
    assert missing_warnings(tofu)


def test_the_workbook_has_a_sheet_per_table_and_the_case_list(simulated):
    _cfg, files = simulated
    wb = load_workbook(files.workbook, read_only=True)
    assert wb.sheetnames == ["概况", "街镇排名", "部门排名", "网格排名", "个人考核", "呼叫考核", "共性问题",
                             "共性问题案件", "案件清单"]
    cases = list(wb["案件清单"].iter_rows(values_only=True))
    assert cases[0][:5] == ("编号", "街镇", "网格", "类别", "状态") and len(cases) == N + 1
    assert {row[3] for row in cases[1:]} == {"垃圾堆放"} and {row[4] for row in cases[1:]} == {"已办结"}
    summary = list(wb["概况"].iter_rows(values_only=True))
    head = summary[0]
    assert summary[1][0] == "2026-11" and summary[1][head.index("收件")] == N
    assert summary[1][head.index("办结率")] == 1 and summary[1][head.index("及时应答率")] == 0
    calls = list(wb["呼叫考核"].iter_rows(values_only=True))
    assert len(calls) == N + 1 and {r[5] for r in calls[1:]} == {False} and {r[8] for r in calls[1:]} == {"accurate"}
    people = list(wb["个人考核"].iter_rows(values_only=True))
    assert {r[1] for r in people[1:]} >= {"经办", "响应人", "报到人"}
    found = list(wb["共性问题"].iter_rows(values_only=True))[1:]
    found_cases = list(wb["共性问题案件"].iter_rows(values_only=True))[1:]
    assert found and len(found_cases) == sum(row[5].count("GL-") for row in found)  # every number, one a row
    league = list(wb["街镇排名"].iter_rows(values_only=True))
    assert [r[0] for r in league[1:]] == list(range(1, len(league)))


def test_a_cell_of_case_numbers_stays_within_excels_limit():
    numbers = [f"GL-20261001-{i:05d}" for i in range(5000)]  # a rising category of a large month
    cell = listed(numbers)
    assert len(cell) <= MAX_CELL and cell.endswith("（共5000件，全部见「共性问题案件」）")
    assert cell.split(" …")[0].split(" ") == numbers[:len(cell.split(" …")[0].split(" "))]
    assert listed(numbers[:3]) == " ".join(numbers[:3])


def test_the_month_before_made_by_the_helper_process_is_the_one_made_here(tmp_path):
    """write_report has a helper process tally the month before (and draw the charts) while it reads the
    month itself: the report is the one build() makes alone in this process."""
    from sqlalchemy import create_engine

    from assessment.report import build
    from bot.reports.files import context_from, shared, worth_a_helper
    cfg, path = load_config(ROOT / "config.yaml"), tmp_path / "two.sqlite3"
    mix = {**MIX, "categories": {"garbage": 0.5, "road_damage": 0.5}, "answer_late": {"*": 0.5}}
    asyncio.run(simulate(cfg, str(path), 2, 16, 3, date(2026, 10, 31), mix, settle=timedelta(days=1)))
    period, now, url = parse_period("2026-11", date(2026, 12, 1)), datetime(2026, 12, 1, tzinfo=UTC), f"sqlite:///{path}"
    assert shared(url) and not shared("sqlite://") and not shared("sqlite+aiosqlite:///:memory:")
    ctx = context_from(settings_from(cfg))
    assert worth_a_helper(url, period, ctx, 8) and not worth_a_helper(url, period, ctx, 9)
    files = write_report(url, settings_from(cfg), period, now, tmp_path / "out", helper_from=8)
    with create_engine(url).connect() as conn:
        alone = build(conn, period, now, ctx)
    made = files.report
    assert made.previous.district.received == alone.previous.district.received > 0
    assert made.current.district.received == alone.current.district.received > 0
    for unit in ("streets", "departments", "grids"):
        assert {k: vars(t) for k, t in getattr(made.previous, unit).items()} == \
            {k: vars(t) for k, t in getattr(alone.previous, unit).items()}
    assert [(r.unit, r.rank, r.change, r.score) for rows in made.leagues.values() for r in rows] == \
        [(r.unit, r.rank, r.change, r.score) for rows in alone.leagues.values() for r in rows]
    assert [(x.category, x.now, x.before) for x in made.rising] == [(x.category, x.now, x.before) for x in alone.rising]
    assert len(files.charts) == 5 and all(p.stat().st_size > 10_000 for p in files.charts)

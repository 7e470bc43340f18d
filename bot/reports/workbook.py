"""The report's .xlsx workbook: a sheet per table and the case list, each sheet's XML streamed by fastsheet
into the workbook openpyxl writes around them."""

from __future__ import annotations

import itertools
from pathlib import Path

from openpyxl import Workbook

from assessment.metrics import Tally
from assessment.report import Report
from assessment.trace import localizer
from bot.reports import fastsheet

RATE_COLUMNS = (("received", "收件"), ("resolved", "办结"), ("closure_rate", "办结率"), ("rated", "已评价"),
                ("satisfaction_rate", "满意率"), ("unsatisfied_rate", "不满意率"), ("unrated_closed", "未评价结案"),
                ("reopen_rate", "重办率"), ("respond_on_time", "及时响应率"), ("answer_on_time", "及时应答率"),
                ("onsite_on_time", "按时到场率"), ("resolve_on_time", "及时办理率"), ("overdue", "超时"),
                ("extended", "延期"), ("difficult", "疑难"), ("calls", "呼叫"), ("call_accuracy", "呼叫准确率"),
                ("good_rate", "部门好评率"))
TIMES = (("respond", "响应"), ("arrive", "到场"), ("resolve", "办结"))
MAX_CELL = 32_767  # the most characters a cell holds in Excel
STATES = {"reported": "待接单", "routing": "待分派", "accepted": "办理中", "resolved": "待评价", "closed": "已办结"}


def _cells(t: Tally) -> list:
    out = []
    for key, _ in RATE_COLUMNS:
        v = getattr(t, key)
        out.append(round(v, 4) if isinstance(v, float) else v)
    for what, _ in TIMES:
        out += [_round(t.median(what)), _round(t.p90(what))]
    return out


def listed(numbers: list[str]) -> str:
    """Case numbers for one cell, within Excel's 32,767 characters (a rising category in a large month has
    thousands); the sheet 共性问题案件 lists them all."""
    text = " ".join(numbers)
    if len(text) <= MAX_CELL:
        return text
    note = f" …（共{len(numbers)}件，全部见「共性问题案件」）"
    return text[:MAX_CELL - len(note)].rsplit(" ", 1)[0] + note


def _round(v):
    return None if v is None else round(v, 1)


def _header(first: list[str]) -> list[str]:
    return first + [zh for _, zh in RATE_COLUMNS] + [f"{zh}{q}(分钟)" for _, zh in TIMES for q in ("中位数", "P90")]


def write(r: Report, path: Path) -> Path:
    """Every sheet's rows are made here and streamed by fastsheet; openpyxl writes the workbook around them
    (its own cell writer took ~0.3 s for the ~1,000 rows of the persons' sheet of a large month)."""
    sheets = {"概况": [_header(["期间"]), [r.period.label] + _cells(r.current.district),
                     [r.period.previous().label] + _cells(r.previous.district)]}
    for league, title in (("street", "街镇排名"), ("department", "部门排名"), ("grid", "网格排名")):
        sheets[title] = [_header(["名次", "单位", "综合得分", "名次变化", "低于底线"])] + [
            [row.rank, r.department(row.unit) if league == "department" else row.unit, row.score, row.change,
             "，".join(row.below)] + _cells(row.tally) for row in r.leagues[league]]
    roles = {"handler": "经办", "answered": "响应人", "checked_in": "报到人", "deputy": "分管领导", "chief": "主责领导"}
    sheets["个人考核"] = itertools.chain([_header(["姓名", "角色", "单位", "升级至本人", "其中最终办结"])], (
        [p.name, roles[p.role], p.unit, p.reached, p.reached_met] + _cells(p.tally)
        for p in sorted(r.current.persons, key=lambda p: (p.unit, p.role, p.name))))
    sheets["呼叫考核"] = itertools.chain([["呼叫编号", "诉求件", "街镇", "部门", "状态", "按时响应", "按时到场",
                                          "街镇评价部门", "部门评价呼叫", "升级层级", "响应人", "报到人"]], (
        [a.call_id, a.number, a.street, a.department, a.status, a.answered_on_time, a.on_site_on_time,
         a.street_rating, a.department_rating, a.level, a.answered_by, a.checked_in_by] for a in r.current.calls))
    found = [("上升类别", x.category, None, x.now, x.before, x.numbers) for x in r.rising]
    found += [("街镇最多类别", cat, street, len(numbers), None, numbers)
              for street, (cat, numbers) in r.top_category.items()]
    found += [(f"重复地点 ({k.lat:.5f},{k.lon:.5f})", k.category, k.street, len(k.numbers), None, k.numbers)
              for k in r.clusters]
    sheets["共性问题"] = [["类型", "类别", "街镇", "本期", "上期", "案件编号"]] + [
        [kind, r.category(cat), street, now, before, listed(numbers)]
        for kind, cat, street, now, before, numbers in found]
    sheets["共性问题案件"] = itertools.chain([["类型", "类别", "街镇", "案件编号"]], (  # every number, one a row
        [kind, r.category(cat), street, number] for kind, cat, street, _, _, numbers in found for number in numbers))
    extended, when = r.current.trace.extended, localizer(r.ctx.tz, r.period.bounds(r.ctx.tz)[0], r.now)
    sheets["案件清单"] = itertools.chain([["编号", "街镇", "网格", "类别", "状态", "收件时间", "接单时间",
                                          "办结时间", "结案时间", "群众评价", "重办次数", "疑难", "延期", "经办",
                                          "纬度", "经度"]], (
        [c.number, c.unit, c.grid, r.category(c.category), STATES.get(c.state, c.state),
         when(c.created), when(c.accepted), when(c.resolved), when(c.closed),
         c.last_rating or c.rating, c.reopens, c.difficult, c.id in extended, c.handler, c.lat, c.lon]
        for c in r.current.trace.cases))
    wb = Workbook(write_only=True)
    for title in sheets:
        wb.create_sheet(title)
    wb.save(path)
    fastsheet.replace_sheets(path, {n: rows for n, rows in enumerate(sheets.values(), 1)})
    return path

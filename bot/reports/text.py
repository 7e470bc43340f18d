"""The report's short text (plain text: sent without a parse mode, so nothing in it needs escaping)."""

from __future__ import annotations

from assessment.league import Row
from assessment.metrics import Tally
from assessment.report import Report

NAMES = {"closure_rate": "办结率", "satisfaction_rate": "满意率", "unsatisfied_rate": "不满意率",
         "reopen_rate": "重办率",
         "respond_on_time": "及时响应率", "answer_on_time": "及时应答率", "onsite_on_time": "按时到场率",
         "resolve_on_time": "及时办理率", "call_accuracy": "呼叫准确率", "good_rate": "部门好评率"}


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _change(row: Row) -> str:
    if row.change is None:
        return "新"
    return f"▲{row.change}" if row.change > 0 else f"▼{-row.change}" if row.change < 0 else "＝"


def league_table(r: Report, league: str = "street", limit: int = 20) -> str:
    title = {"street": "街镇", "department": "部门", "grid": "网格"}[league]
    shown = (("answer_on_time", "onsite_on_time", "good_rate") if league == "department"
             else ("closure_rate", "satisfaction_rate"))
    lines = [f"{title}排名 {r.period.label}（综合得分 / 名次变化 / " + " / ".join(NAMES[m] for m in shown) + "）"]
    for row in r.leagues[league][:limit]:
        unit = r.department(row.unit) if league == "department" else row.unit
        mark = " ⚠低于底线:" + "、".join(NAMES[m] for m in row.below) if row.below else ""
        score = "—" if row.score is None else f"{row.score:.1f}"
        rates = " ".join(f"{NAMES[m]} {pct(getattr(row.tally, m))}" for m in shown)
        lines.append(f"{row.rank}. {unit} {score} {_change(row)} {rates}{mark}")
    return "\n".join(lines)


def headline(t: Tally) -> str:
    return (f"收件 {t.received}，办结 {t.resolved}（办结率 {pct(t.closure_rate)}）；满意率 {pct(t.satisfaction_rate)}"
            f"（已评价 {t.rated}，未评价结案 {t.unrated_closed} 另列）；重办率 {pct(t.reopen_rate)}\n"
            f"及时响应率 {pct(t.respond_on_time)}，及时应答率 {pct(t.answer_on_time)}，按时到场率 "
            f"{pct(t.onsite_on_time)}，及时办理率 {pct(t.resolve_on_time)}；超时 {t.overdue}，延期 {t.extended}，"
            f"疑难 {t.difficult}\n呼叫 {t.calls}：呼叫准确率 {pct(t.call_accuracy)}，部门好评率 {pct(t.good_rate)}")


def _numbers(numbers: list[str], n: int = 5) -> str:
    more = f" 等{len(numbers)}件" if len(numbers) > n else ""
    return " ".join(numbers[:n]) + more


def summary(r: Report) -> str:
    d, p = r.current.district, r.previous.district
    lines = [f"【监督考核{r.period.zh}】{r.period.label}（{r.period.start:%m-%d} 至 "
             f"{r.period.days()[-1]:%m-%d}）", headline(d),
             f"上期 {r.period.previous().label}：收件 {p.received}，办结率 {pct(p.closure_rate)}，"
             f"满意率 {pct(p.satisfaction_rate)}", "", league_table(r, "street", 10), "",
             league_table(r, "department", 10), "", "共性问题："]
    for x in r.rising[:5]:
        lines.append(f"· 上升：{r.category(x.category)} {x.before}→{x.now} 件（{_numbers(x.numbers)}）")
    for street, (cat, numbers) in list(r.top_category.items())[:12]:
        lines.append(f"· {street} 最多：{r.category(cat)} {len(numbers)} 件")
    for k in r.clusters[:5]:
        lines.append(f"· 重复地点：{k.street} {r.category(k.category)} {len(k.numbers)} 件"
                     f"（{_numbers(k.numbers)}）")
    if not (r.rising or r.top_category or r.clusters):
        lines.append("· 无")
    return "\n".join(lines)

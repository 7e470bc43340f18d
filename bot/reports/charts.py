"""The report's PNG charts (matplotlib's object API and the Agg canvas: no pyplot state, no display,
safe on a worker thread)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from assessment.report import Report
from bot.reports.font import cjk_font

OUTCOMES = (("closed", "已办结", "#4c9f70"), ("resolved", "待评价", "#f2b134"), ("open", "办理中", "#d1495b"))
TREND = (("closure_rate", "办结率"), ("satisfaction_rate", "满意率"), ("respond_on_time", "及时响应率"),
         ("answer_on_time", "及时应答率"), ("onsite_on_time", "按时到场率"), ("resolve_on_time", "及时办理率"))


def _figure(w: float, h: float) -> Figure:
    matplotlib.rcParams["font.family"] = [cjk_font()[1], "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def cases_per_day(r: Report, path: Path) -> Path:
    fig = _figure(10, 4)
    ax = fig.add_subplot()
    days = r.period.days()
    bottom = [0] * len(days)
    for key, label, colour in OUTCOMES:
        values = [r.current.by_day.get(d, {}).get(key, 0) for d in days]
        ax.bar(range(len(days)), values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 15)
    ax.set_xticks(range(0, len(days), step), [f"{d:%m-%d}" for d in days[::step]], rotation=45)
    ax.set_title(f"每日诉求件数（按结果）{r.period.label}")
    ax.set_ylabel("件数")
    ax.legend()
    return _save(fig, path)


def on_time_by_unit(r: Report, path: Path) -> Path:
    units = [(u, t) for u, t in sorted(r.current.streets.items())] + \
            [(r.department(k), t) for k, t in sorted(r.current.departments.items())]
    kinds = (("respond_on_time", "及时响应"), ("answer_on_time", "及时应答"), ("onsite_on_time", "按时到场"),
             ("resolve_on_time", "及时办理"))
    fig = _figure(10, max(3.0, 0.45 * len(units) + 1.5))
    ax = fig.add_subplot()
    h = 0.8 / len(kinds)
    for i, (metric, label) in enumerate(kinds):
        ax.barh([y + i * h for y in range(len(units))], [100 * (getattr(t, metric) or 0) for _, t in units],
                height=h, label=label)
    ax.set_yticks([y + 0.4 - h / 2 for y in range(len(units))], [u for u, _ in units])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.set_title(f"各单位按时率 {r.period.label}")
    ax.legend(loc="lower right")
    return _save(fig, path)


def heat_map(r: Report, path: Path) -> Path:
    categories = sorted({c for c, _ in r.current.category_street})
    streets = sorted({s for _, s in r.current.category_street})
    grid = [[r.current.category_street.get((c, s), 0) for s in streets] for c in categories]
    fig = _figure(max(6.0, 0.8 * len(streets) + 2), max(3.0, 0.5 * len(categories) + 2))
    ax = fig.add_subplot()
    ax.imshow(grid or [[0]], cmap="OrRd", aspect="auto")
    ax.set_xticks(range(len(streets)), streets, rotation=45, ha="right")
    ax.set_yticks(range(len(categories)), [r.category(c) for c in categories])
    top = max((v for row in grid for v in row), default=0)
    for y, row in enumerate(grid):
        for x, v in enumerate(row):
            ax.text(x, y, str(v), ha="center", va="center", fontsize=8, color="white" if v > top / 2 else "black")
    ax.set_title(f"类别 × 街镇 {r.period.label}")
    return _save(fig, path)


def top_places(r: Report, path: Path, n: int = 10) -> Path:
    top = r.current.places.most_common(n)
    fig = _figure(8, 0.45 * max(len(top), 3) + 1.5)
    ax = fig.add_subplot()
    ax.barh(range(len(top)), [v for _, v in top], color="#3d5a80")
    ax.set_yticks(range(len(top)), [k for k, _ in top])
    ax.invert_yaxis()
    ax.set_xlabel("件数")
    ax.set_title(f"案件最多的网格 / 地点 前{n} {r.period.label}")
    return _save(fig, path)


def trend(r: Report, path: Path) -> Path:
    fig = _figure(9, 4)
    ax = fig.add_subplot()
    xs = range(len(TREND))
    for offset, (tally, label) in ((-0.2, (r.previous.district, f"上期 {r.period.previous().label}")),
                                   (0.2, (r.current.district, f"本期 {r.period.label}"))):
        ax.bar([x + offset for x in xs], [100 * (getattr(tally, m) or 0) for m, _ in TREND], width=0.4, label=label)
    ax.set_xticks(list(xs), [zh for _, zh in TREND])
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(f"与上期对比（收件 {r.current.district.received} 件，上期 {r.previous.district.received} 件）")
    ax.legend(loc="lower right")
    return _save(fig, path)


CHARTS = (("cases_per_day", cases_per_day), ("on_time_by_unit", on_time_by_unit), ("category_street", heat_map),
          ("top_places", top_places), ("trend", trend))


def render_all(r: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [fn(r, out / f"{r.period.label}_{name}.png") for name, fn in CHARTS]

"""The command centre's daily summary in words: the core sends numbers by unit (cases/stats.DailySummary
with the phone-backs and tomorrow's duty rota as data); this writes them in the group's language."""

from __future__ import annotations

from ui.names import CENTRE, department_name, street_name
from ui.texts import DEADLINE_WORDS, pick

WORDS = {
    "head": ("单位 | 新增 | 办结 | 超时 | 重办", "Unit | New | Resolved | Overdue | Reopened"),
    "total": ("合计", "Total"),
    "grid": ("网格员上报：", "Grid workers reported: "),
    "cases": ("件", "cases"),
    "overdue": ("超时清单：", "Overdue:"),
    "phonebacks": ("回访清单（{n}）：", "Phone-backs ({n}):"),
    "unrated": ("未评价", "not rated"),
    "unsatisfied": ("不满意", "not satisfied"),
    "how": ("用 /callback 编号 满意|基本满意|不满意 [备注] 记录回访结果。",
            "Record each with /callback NUMBER satisfied|mostly|unsatisfied [note]."),
    "duty": ("明日值班 {day}：区级 {names}", "On duty {day}: district {names}"),
    "street_duty": ("  {street}：{names}", "  {street}: {names}"),
    "nobody": ("无", "nobody"),
    "gap": ("⚠️ {day} {unit} 无人值班", "⚠️ {day} {unit}: nobody on duty"),
    "district": ("区级", "district"),
}


def _w(key: str, lang: str, **args) -> str:
    return pick(WORDS[key], lang).format(**args)


def summary_body(data: dict, settings, lang: str) -> str:
    """data: DailySummary.payload() plus the services' parts; settings: the core's (unit names)."""
    def street(name: str) -> str:
        return street_name(settings, name, lang) if name else pick(CENTRE, lang)

    rows: dict[str, list[int]] = {}  # unit in words -> new, resolved, overdue, reopened
    for i, field in enumerate(("new", "resolved", "overdue", "reopened")):
        for unit, n in data.get(field, {}).items():
            rows.setdefault(street(unit), [0, 0, 0, 0])[i] += n
    for key, n in data.get("overdue_departments", {}).items():
        rows.setdefault(department_name(settings, key, lang), [0, 0, 0, 0])[2] += n
    lines = [_w("head", lang)] + [" | ".join([unit, *map(str, v)]) for unit, v in sorted(rows.items())]
    lines.append(" | ".join([_w("total", lang), *(str(sum(v[i] for v in rows.values())) for i in range(4))]))
    if grids := data.get("grid_reports"):
        lines.append(_w("grid", lang) + "，".join(f"{g} {n} {_w('cases', lang)}" for g, n in sorted(grids.items())))
    if late := data.get("overdue_cases"):
        lines.append(_w("overdue", lang))
        lines += [f"{number} {street(unit) if side == 'street' else department_name(settings, unit, lang)} "
                  f"{pick(DEADLINE_WORDS.get(kind, (kind, kind)), lang)}" for number, side, unit, kind in late[:30]]
    if data.get("phonebacks"):
        lines.append(_w("phonebacks", lang, n=data["phonebacks_total"]))
        lines += [f"{number} {_w(why, lang)}" for number, why in data["phonebacks"]]
        lines.append(_w("how", lang))
    if duty := data.get("duty"):
        lines += duty_lines(duty, settings, lang)
    return "\n".join(lines)


def duty_lines(duty: dict, settings, lang: str) -> list[str]:
    """Tomorrow's rota (cases/rota.Rota.tomorrow): who is on duty, and a warning for a day without anyone."""
    nobody = _w("nobody", lang)
    lines = [_w("duty", lang, day=duty["day"], names="、".join(duty["district"]) or nobody)]
    lines += [_w("street_duty", lang, street=street_name(settings, s, lang), names="、".join(names) or nobody)
              for s, names in duty["streets"].items()]
    lines += [_w("gap", lang, day=day, unit=street_name(settings, s, lang) if s else _w("district", lang))
              for day, s in duty["gaps"]]
    return lines

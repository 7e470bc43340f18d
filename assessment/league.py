"""League tables: units ranked by a weighted composite of their rates, with the change of rank against
the previous period and the units below a floor marked."""

from __future__ import annotations

from dataclasses import dataclass

from assessment.metrics import Tally

BAD = {"unsatisfied_rate", "reopen_rate"}  # lower is better: the score uses 1 − rate, the floor is a ceiling


@dataclass
class Row:
    rank: int
    unit: str
    score: float | None  # 0–100
    change: int | None  # places gained (+) or lost (−) against the previous period; None: not ranked then
    below: list[str]  # metrics past their floor
    tally: Tally


def score(tally: Tally, weights: dict[str, float]) -> float | None:
    total = weight = 0.0
    for metric, w in weights.items():
        value = getattr(tally, metric)
        if value is None or not w:
            continue
        total += w * (1 - value if metric in BAD else value)
        weight += w
    return round(100 * total / weight, 1) if weight else None


def below_floor(tally: Tally, floors: dict[str, float]) -> list[str]:
    out = []
    for metric, floor in floors.items():
        value = getattr(tally, metric)
        if value is not None and (value > floor if metric in BAD else value < floor):
            out.append(metric)
    return out


def _ranked(units: dict[str, Tally], weights: dict[str, float]) -> list[tuple[str, float | None]]:
    scored = [(u, score(t, weights)) for u, t in units.items()]
    # Units with a score first, best first; ties by name so a table is stable.
    return sorted(scored, key=lambda x: (x[1] is None, -(x[1] or 0), x[0]))


def league(units: dict[str, Tally], weights: dict[str, float], floors: dict[str, float],
           previous: dict[str, Tally] | None = None) -> list[Row]:
    before = {u: i + 1 for i, (u, s) in enumerate(_ranked(previous or {}, weights)) if s is not None}
    rows = []
    for i, (unit, s) in enumerate(_ranked(units, weights)):
        rank = i + 1
        change = before[unit] - rank if unit in before and s is not None else None
        rows.append(Row(rank, unit, s, change, below_floor(units[unit], floors), units[unit]))
    return rows

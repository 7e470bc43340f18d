"""共性问题 (recurring problems): categories on the rise, each street's top category, and places where
the same kind of problem came back (same category within a radius, N+ cases in the period)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from assessment.trace import CaseRow


@dataclass
class Rising:
    category: str
    now: int
    before: int
    numbers: list[str]


@dataclass
class Cluster:
    category: str
    street: str
    lat: float
    lon: float
    numbers: list[str]


def rising(cases: list[CaseRow], previous: Counter, min_cases: int = 3, factor: float = 1.2) -> list[Rising]:
    """Categories with at least `min_cases` now and at least `factor` × the previous period's count."""
    by_cat = defaultdict(list)
    for c in cases:
        by_cat[c.category].append(c.number)
    out = [Rising(cat, len(nums), previous.get(cat, 0), nums) for cat, nums in by_cat.items()
           if len(nums) >= min_cases and len(nums) > previous.get(cat, 0)
           and len(nums) >= factor * previous.get(cat, 0)]
    return sorted(out, key=lambda r: (r.before - r.now, r.category))


def top_category(cases: list[CaseRow]) -> dict[str, tuple[str, list[str]]]:
    """street -> (its most frequent category, the case numbers)."""
    by = defaultdict(lambda: defaultdict(list))
    for c in cases:
        by[c.unit][c.category].append(c.number)
    return {street: max(cats.items(), key=lambda kv: (len(kv[1]), kv[0])) for street, cats in sorted(by.items())}


def _metres(a: CaseRow, b: CaseRow) -> float:
    # An equirectangular approximation: within a few hundred metres it is off by well under a metre.
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6_371_000 * math.hypot(x, math.radians(b.lat - a.lat))


def repeated_places(cases: list[CaseRow], radius_m: float = 100, min_cases: int = 3) -> list[Cluster]:
    """Greedy, in time order: the first case not yet in a cluster gathers the free cases of its category
    within `radius_m` of it; `min_cases` or more make a cluster. Buckets of ~radius keep it near linear."""
    cell = radius_m / 111_000  # degrees of latitude; a longitude cell is narrower, so neighbours stay in ±1
    buckets: dict[tuple, list[CaseRow]] = defaultdict(list)
    for c in cases:
        buckets[(c.category, int(c.lat // cell), int(c.lon // cell))].append(c)
    taken: set[int] = set()
    out = []
    for c in sorted(cases, key=lambda c: (c.created, c.id)):
        if c.id in taken:
            continue
        key_lat, key_lon = int(c.lat // cell), int(c.lon // cell)
        near = [o for dy in (-1, 0, 1) for dx in (-2, -1, 0, 1, 2)
                for o in buckets.get((c.category, key_lat + dy, key_lon + dx), ())
                if o.id not in taken and _metres(c, o) <= radius_m]
        if len(near) >= min_cases:
            near.sort(key=lambda o: (o.created, o.id))
            taken.update(o.id for o in near)
            out.append(Cluster(c.category, c.unit, c.lat, c.lon, [o.number for o in near]))
    return sorted(out, key=lambda k: (-len(k.numbers), k.numbers[0]))

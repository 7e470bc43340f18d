"""`locate` speed at 10,000 polygons.

    python -m bench.locate [--side 100] [--points 20000]

A side x side grid of square polygons (10,000 by default) in a StreetIndex; random points inside
the grid are located one at a time (median and p99 of per-call time) and in bulk (locate_many).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from shapely.geometry import box

from geo.streets import StreetIndex


def build(side: int, cell: float = 0.001, origin=(119.2, 26.0)) -> StreetIndex:
    x0, y0 = origin
    features = [(f"cell-{i}-{j}", box(x0 + i * cell, y0 + j * cell, x0 + (i + 1) * cell, y0 + (j + 1) * cell))
                for i in range(side) for j in range(side)]
    return StreetIndex(features)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=100)
    parser.add_argument("--points", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(7)
    t = time.perf_counter()
    index = build(args.side)
    build_s = time.perf_counter() - t
    span = args.side * 0.001
    points = [(26.0 + rng.random() * span, 119.2 + rng.random() * span) for _ in range(args.points)]
    for lat, lon in points[:1000]:  # warm up
        index.locate(lat, lon)
    times = []
    for lat, lon in points:
        t0 = time.perf_counter_ns()
        index.locate(lat, lon)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    t = time.perf_counter()
    index.locate_many([p[0] for p in points], [p[1] for p in points])
    bulk_s = time.perf_counter() - t
    print(f"polygons            {len(index.names):>10,}")
    print(f"index build         {build_s * 1000:>10.1f} ms (STRtree + lookup grid)")
    covered = sum(1 for k in index._grid if k >= 0) / len(index._grid)
    print(f"grid cells          {len(index._grid):>10,} ({covered:.0%} inside one polygon)")
    print(f"locate median       {statistics.median(times) / 1000:>10.2f} µs")
    print(f"locate p99          {times[int(len(times) * 0.99)] / 1000:>10.2f} µs")
    print(f"locate_many         {bulk_s / len(points) * 1e6:>10.2f} µs/point ({len(points):,} points)")


if __name__ == "__main__":
    main()

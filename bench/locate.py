"""`StreetIndex.locate` speed at 10,000 polygons.

    python -m bench.locate [--side 100] [--points 20000] [--seed 7]

A side x side grid of square polygons (10,000 by default, 0.001 degree each, near Fuzhou) in a
StreetIndex; random points inside the grid are located one at a time (median and p99 of the
per-call time, time.perf_counter_ns around each call) and all at once with locate_many. The same
again with the polygons in GCJ-02, where every point is converted before the lookup.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time

from shapely.geometry import Polygon, box

from geo.coords import wgs84_to_gcj02
from geo.streets import StreetIndex

CELL = 0.001
ORIGIN = (26.0, 119.2)  # (lat, lon) of the grid's south-west corner


def squares(side: int, crs: str = "wgs84") -> list:
    lat0, lon0 = ORIGIN
    features = []
    for i in range(side):
        for j in range(side):
            s, w, n, e = lat0 + j * CELL, lon0 + i * CELL, lat0 + (j + 1) * CELL, lon0 + (i + 1) * CELL
            if crs == "wgs84":
                features.append((f"cell-{i}-{j}", box(w, s, e, n)))
            else:  # the same squares as a GCJ-02 map draws them: neighbours still share their corners
                ring = [wgs84_to_gcj02(lat, lon) for lat, lon in ((s, w), (s, e), (n, e), (n, w))]
                features.append((f"cell-{i}-{j}", Polygon([(lon, lat) for lat, lon in ring])))
    return features


def run(side: int, points: list[tuple[float, float]], crs: str) -> dict:
    features = squares(side, crs)
    t = time.perf_counter()
    index = StreetIndex(features, crs=crs)  # the index alone: STRtrees and the lookup grid
    build_s = time.perf_counter() - t
    for lat, lon in points[:2000]:  # warm up caches and the allocator
        index.locate(lat, lon)
    times = []
    clock = time.perf_counter_ns
    for lat, lon in points:
        t0 = clock()
        index.locate(lat, lon)
        times.append(clock() - t0)
    times.sort()
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    t = time.perf_counter()
    bulk = index.locate_many(lats, lons)
    bulk_s = time.perf_counter() - t
    assert all(m.inside for m in bulk), "every benchmark point lies inside a polygon"
    return {"crs": crs, "polygons": len(index.names), "build_s": build_s,
            "fast": float((index._grid >= 0).mean()), "median": statistics.median(times) / 1000,
            "p99": times[int(len(times) * 0.99)] / 1000, "bulk": bulk_s / len(points) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=100)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    span = args.side * CELL
    # Inside the grid, away from its outer edge so that GCJ-02 rounding cannot push a point outside.
    lat0, lon0 = ORIGIN[0] + CELL / 2, ORIGIN[1] + CELL / 2
    inner = span - CELL
    points = [(lat0 + rng.random() * inner, lon0 + rng.random() * inner) for _ in range(args.points)]
    rows = [run(args.side, points, crs) for crs in ("wgs84", "gcj02")]
    print(f"locate: {len(points):,} random points inside {rows[0]['polygons']:,} square polygons "
          f"(Python {platform.python_version()}, {platform.machine()})")
    print("| crs   | build (s) | grid cells answered at once | locate median (µs) | locate p99 (µs) "
          "| locate_many (µs/point) |")
    print("|-------|----------:|----------------------------:|-------------------:|----------------:"
          "|-----------------------:|")
    for r in rows:
        print(f"| {r['crs']} | {r['build_s']:9.2f} | {r['fast']:27.0%} | {r['median']:18.2f} "
              f"| {r['p99']:15.2f} | {r['bulk']:22.2f} |")


if __name__ == "__main__":
    main()

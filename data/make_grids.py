"""Write data/gulou_grids.geojson: each demo street cut into 2 × 2 grid cells (网格).

Demo geometry only, like the streets it is cut from: `python data/make_grids.py` rewrites the file.
"""

import json
from pathlib import Path

import shapely
from shapely.geometry import box, mapping, shape

HERE = Path(__file__).resolve().parent


def cells(street: dict, rows: int = 2, cols: int = 2):
    geom = shape(street["geometry"])
    x0, y0, x1, y1 = geom.bounds
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    n = 0
    for r in range(rows):
        for c in range(cols):
            part = geom.intersection(box(x0 + c * w, y0 + r * h, x0 + (c + 1) * w, y0 + (r + 1) * h))
            part = shapely.MultiPolygon([g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon"])
            if part.is_empty:
                continue
            n += 1
            if len(part.geoms) == 1:
                part = part.geoms[0]
            yield f"{street['properties']['name']}{n:02d}网格", shapely.set_precision(part, 1e-6)


def main() -> None:
    streets = json.loads((HERE / "gulou_streets.geojson").read_text(encoding="utf-8"))["features"]
    features = [{"type": "Feature", "properties": {"name": name, "street": s["properties"]["name"],
                                                   "note": "approximate demo geometry"},
                 "geometry": mapping(geom)} for s in streets for name, geom in cells(s)]
    out = {"type": "FeatureCollection",
           "note": "Demo grid cells (网格): each demo street cut into 2 x 2; not official boundaries",
           "features": features}
    (HERE / "gulou_grids.geojson").write_text(json.dumps(out, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(features)} grid cells")


if __name__ == "__main__":
    main()

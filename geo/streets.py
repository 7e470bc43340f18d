"""Which street owns a point: the street polygons in a shapely 2 STRtree, with a lookup grid in front.

Rules: a point inside (or on the border of) a street's polygon belongs to it; on a shared border the
street first in the file wins, always; a point outside every polygon goes to the nearest street when
it is within `tolerance_m` metres, else to nobody (the command centre routes it by hand).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.ops import nearest_points

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02, wgs84_to_gcj02_many
from geo.distance import distance_m

# The ufunc behind shapely.intersects_xy without its Python wrapper: ~1.5 µs less per call on the hot
# path. It tests without creating a Point object and uses the polygon's prepared form.
_intersects_xy = getattr(shapely.lib, "intersects_xy", shapely.intersects_xy)


_POLYGONAL = (shapely.Polygon, shapely.MultiPolygon)


class GeoDataError(ValueError):
    """The street polygons cannot be used: the message names the file and feature at fault."""


@dataclass(frozen=True, slots=True)
class Match:
    street: str | None  # None: outside every street beyond the tolerance
    inside: bool  # inside (or on the border of) the street's polygon
    distance_m: float  # 0 inside; else geodesic metres to the nearest street's boundary


class StreetIndex:
    """Street polygons in `crs` ("wgs84" or "gcj02"); every query takes WGS-84 points, as Telegram sends."""

    grid_cells_per_street = 32  # lookup grid size: build time and memory against the share of fast cells
    max_grid_cells = 1 << 18

    def __init__(self, features: list[tuple[str, object]], crs: str = "wgs84", tolerance_m: float = 100.0):
        if crs not in ("wgs84", "gcj02"):
            raise GeoDataError(f"unknown coordinate system {crs!r}: use 'wgs84' or 'gcj02'")
        if not features:
            raise GeoDataError("no street polygons")
        for i, (name, geom) in enumerate(features):
            if not isinstance(name, str) or not name.strip():
                raise GeoDataError(f"street {i} has no name")
            if not isinstance(geom, _POLYGONAL) or geom.is_empty:
                raise GeoDataError(f"street {i} ({name}) is not a non-empty Polygon or MultiPolygon")
        self.names: list[str] = [name for name, _ in features]
        self.geometries: list = [geom for _, geom in features]  # in the index's crs, file order
        self.crs, self.tolerance_m = crs, float(tolerance_m)
        shapely.prepare(self.geometries)  # predicate tests (tree queries, intersects_xy) use prepared forms
        self.tree = shapely.STRtree(self.geometries)
        self._inside = [Match(name, True, 0.0) for name in self.names]  # immutable, shared by every answer
        # Nearest-street questions are asked in a frame where a degree of longitude is shrunk by
        # cos(latitude), so planar distance ranks streets as metres do (a district spans far less than
        # a degree, over which the cosine barely changes).
        x0, y0, x1, y1 = shapely.total_bounds(self.geometries)
        self._kx = max(math.cos(math.radians((y0 + y1) / 2)), 0.01)
        geoms = np.array(self.geometries, dtype=object)
        self._scaled = shapely.transform(geoms, lambda c: c * [self._kx, 1.0])
        self._scaled_tree = shapely.STRtree(self._scaled)
        self._build_grid(geoms, x0, y0, x1, y1)

    def _build_grid(self, geoms: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> None:
        """A regular grid over the polygons' bounds, so that `locate` needs no shapely object per call.

        A cell lying in one polygon's interior holds that polygon's Match: the answer, found with two
        multiplications and a list index. Any other cell holds the (geometry, Match) pairs of the
        polygons touching it, lowest index first, to test with intersects_xy; none means "outside".
        """
        n_cells = min(self.max_grid_cells, max(4096, self.grid_cells_per_street * len(self.names)))
        aspect = max((x1 - x0) / max(y1 - y0, 1e-12), 1e-6)
        nx = min(n_cells, max(1, round((n_cells * aspect) ** 0.5)))
        ny = max(1, n_cells // nx)
        # Cells a hair wider than (bounds / count), so that a point on the far edge still has a cell.
        dx, dy = ((x1 - x0) / nx or 1e-9) * (1 + 1e-9), ((y1 - y0) / ny or 1e-9) * (1 + 1e-9)
        ii, jj = np.meshgrid(np.arange(nx), np.arange(ny))  # cell c = j * nx + i
        ii, jj = ii.ravel(), jj.ravel()
        ex, ey = dx * 1e-6, dy * 1e-6  # cells grown a hair: rounding in locate's cell arithmetic is covered
        boxes = shapely.box(x0 + ii * dx - ex, y0 + jj * dy - ey,
                            x0 + (ii + 1) * dx + ex, y0 + (jj + 1) * dy + ey)
        cell_idx, geom_idx = self.tree.query(boxes, predicate="intersects")
        order = np.lexsort((geom_idx, cell_idx))
        cell_idx, geom_idx = cell_idx[order], geom_idx[order]
        counts = np.bincount(cell_idx, minlength=nx * ny)
        # A cell touched by one polygon only, and lying in its interior: anything else there is a
        # border (or an overlap), where the exact test and the lowest-index rule must decide.
        one = counts[cell_idx] == 1
        interior = np.zeros(nx * ny, dtype=bool)
        interior[cell_idx[one]] = shapely.contains_properly(geoms[geom_idx[one]], boxes[cell_idx[one]])
        grid = np.full(nx * ny, -1, dtype=np.int64)
        grid[cell_idx[one]] = np.where(interior[cell_idx[one]], geom_idx[one], -1)
        pairs = list(zip(self.geometries, self._inside, strict=True))
        cells: list = [()] * (nx * ny)  # () also for cells no polygon touches
        owner, found = grid.tolist(), geom_idx.tolist()  # plain lists: numpy scalar indexing is slow
        starts = np.searchsorted(cell_idx, np.arange(nx * ny + 1)).tolist()
        for c in np.flatnonzero(counts).tolist():
            k = owner[c]
            cells[c] = self._inside[k] if k >= 0 else tuple(pairs[g] for g in found[starts[c]:starts[c + 1]])
        self._cells = cells
        self._grid = grid  # the interior cells, for locate_many
        self._frame = (x0, y0, x1, y1, 1 / dx, 1 / dy, nx, ny)

    @classmethod
    def from_geojson(cls, path, crs: str = "wgs84", tolerance_m: float = 100.0,
                     name_property: str = "name") -> StreetIndex:
        """A GeoJSON FeatureCollection of Polygon/MultiPolygon features, each named by `name_property`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise GeoDataError(f"{path}: cannot read the street polygons ({exc.strerror or exc})") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise GeoDataError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise GeoDataError(f"{path}: not a GeoJSON FeatureCollection")
        raw = data.get("features")
        if not isinstance(raw, list) or not raw:
            raise GeoDataError(f"{path}: the FeatureCollection has no features")
        features = []
        for i, feature in enumerate(raw):
            if not isinstance(feature, dict):
                raise GeoDataError(f"{path}: feature {i} is not a GeoJSON Feature")
            name = (feature.get("properties") or {}).get(name_property)
            if not isinstance(name, str) or not name.strip():
                raise GeoDataError(f"{path}: feature {i} has no {name_property!r} property")
            geometry = feature.get("geometry")
            gtype = geometry.get("type") if isinstance(geometry, dict) else None
            if gtype not in ("Polygon", "MultiPolygon"):
                raise GeoDataError(f"{path}: feature {i} ({name}) is a {gtype}, "
                                   "not a Polygon or MultiPolygon")
            try:
                geom = shape(geometry)
            except Exception as exc:  # shapely raises several kinds on malformed coordinates
                raise GeoDataError(f"{path}: feature {i} ({name}) has bad coordinates: {exc}") from exc
            if not geom.is_valid:  # self-intersections, wrong ring order...: repair, keep the areas
                parts = shapely.get_parts(shapely.make_valid(geom))
                geom = shapely.union_all([p for p in parts if isinstance(p, _POLYGONAL)])
            if geom.is_empty or geom.area == 0 or not isinstance(geom, _POLYGONAL):
                raise GeoDataError(f"{path}: feature {i} ({name}) has no area")
            features.append((name.strip(), geom))
        return cls(features, crs, tolerance_m)

    def locate(self, lat: float, lon: float) -> Match:
        """The street owning a WGS-84 point. Raises ValueError for a point that is not a coordinate."""
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also rejects NaN
            raise ValueError(f"not a WGS-84 coordinate: {lat!r}, {lon!r}")
        y, x = wgs84_to_gcj02(lat, lon) if self.crs == "gcj02" else (lat, lon)
        x0, y0, x1, y1, kx, ky, nx, ny = self._frame
        if x0 <= x <= x1 and y0 <= y <= y1:
            cell = self._cells[int((y - y0) * ky) * nx + int((x - x0) * kx)]
            if cell.__class__ is not tuple:
                return cell  # a cell inside one polygon: its Match
            for geom, match in cell:  # lowest index first: on a shared border the first street wins
                if _intersects_xy(geom, x, y):
                    return match
        return self._nearest(x, y)

    def locate_many(self, lats, lons) -> list[Match]:
        """`locate` for many points at once (same answers), vectorised with numpy and shapely."""
        lats, lons = np.asarray(lats, dtype=float).ravel(), np.asarray(lons, dtype=float).ravel()
        if lats.shape != lons.shape:
            raise ValueError(f"{lats.size} latitudes but {lons.size} longitudes")
        if not np.all((np.abs(lats) <= 90) & (np.abs(lons) <= 180)):
            raise ValueError("not WGS-84 coordinates (out of range or NaN)")
        ys, xs = wgs84_to_gcj02_many(lats, lons) if self.crs == "gcj02" else (lats, lons)
        x0, y0, x1, y1, kx, ky, nx, ny = self._frame
        best = np.full(lats.size, -1, dtype=np.int64)
        framed = np.flatnonzero((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
        i, j = ((xs[framed] - x0) * kx).astype(np.int64), ((ys[framed] - y0) * ky).astype(np.int64)
        best[framed] = self._grid[j * nx + i]
        rest = framed[best[framed] < 0]  # near a border, or outside: ask the tree
        if rest.size:
            point_idx, geom_idx = self.tree.query(shapely.points(xs[rest], ys[rest]), predicate="intersects")
            order = np.lexsort((geom_idx, point_idx))
            point_idx, geom_idx = point_idx[order], geom_idx[order]
            first = np.unique(point_idx, return_index=True)[1]  # per point, the lowest index, as in locate
            best[rest[point_idx[first]]] = geom_idx[first]
        matches = [self._inside[g] if g >= 0 else None for g in best.tolist()]
        for k in np.flatnonzero(best < 0).tolist():
            matches[k] = self._nearest(float(xs[k]), float(ys[k]))
        return matches

    def _nearest(self, x: float, y: float) -> Match:
        """Outside every polygon: the nearest street (ties: lowest index), by geodesic metres."""
        scaled = shapely.Point(x * self._kx, y)
        idx = int(self._scaled_tree.query_nearest(scaled).min())  # all equally near ones come back
        foot = nearest_points(self._scaled[idx], scaled)[0]
        # For a gcj02 index both ends are GCJ-02: the offset is the same to ~1e-5 over a few km, so
        # the distance between them equals the WGS-84 one to a millimetre.
        metres = distance_m(y, x, foot.y, foot.x / self._kx)
        return Match(self.names[idx] if metres <= self.tolerance_m else None, False, metres)

    def representative_point(self, name: str) -> tuple[float, float]:
        """A WGS-84 (lat, lon) inside the street (for demos and tests)."""
        try:
            geom = self.geometries[self.names.index(name)]
        except ValueError:
            raise KeyError(f"no street named {name!r}") from None
        p = geom.representative_point()
        return gcj02_to_wgs84(p.y, p.x) if self.crs == "gcj02" else (p.y, p.x)

"""Which street owns a point: street polygons in a shapely 2 STRtree."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.ops import nearest_points

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geo.distance import distance_m


class GeoDataError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Match:
    street: str | None  # None: outside every street beyond the tolerance
    inside: bool  # inside (or on the border of) the street's polygon
    distance_m: float  # 0 inside; else geodesic metres to the nearest street


class StreetIndex:
    def __init__(self, features: list[tuple[str, object]], crs: str = "wgs84", tolerance_m: float = 100.0):
        if crs not in ("wgs84", "gcj02"):
            raise GeoDataError(f"unknown coordinate system {crs!r}: use wgs84 or gcj02")
        if not features:
            raise GeoDataError("no street polygons")
        self.names = [name for name, _ in features]
        self.geometries = [geom for _, geom in features]  # in the file's coordinate system
        self.crs, self.tolerance_m = crs, tolerance_m
        for geom in self.geometries:
            shapely.prepare(geom)  # the tree's predicate tests use prepared geometries
        self.tree = shapely.STRtree(self.geometries)
        self._inside = [Match(name, True, 0.0) for name in self.names]  # immutable: shared by every answer
        self._build_grid()

    def _build_grid(self, max_cells: int = 1 << 18) -> None:
        """A lookup grid over the district: a cell lying in one polygon's interior answers at once.

        Creating a GEOS point per call costs more than the tree query itself; most points fall in
        such a cell, so they are answered with two multiplications and a list index. Cells that
        touch any boundary (-1) go to the STRtree, so borders keep their exact rule.
        """
        x0, y0, x1, y1 = shapely.total_bounds(self.geometries)
        cells = min(max_cells, max(4096, 400 * len(self.names)))
        aspect = max((x1 - x0) / max(y1 - y0, 1e-12), 1e-6)
        nx = max(1, int(round((cells * aspect) ** 0.5)))
        ny = max(1, cells // nx)
        dx, dy = (x1 - x0) / nx or 1e-9, (y1 - y0) / ny or 1e-9
        ii, jj = np.meshgrid(np.arange(nx), np.arange(ny))
        eps_x, eps_y = dx * 1e-6, dy * 1e-6  # a cell grown a hair: "within" then means the interior
        boxes = shapely.box(x0 + ii.ravel() * dx - eps_x, y0 + jj.ravel() * dy - eps_y,
                            x0 + (ii.ravel() + 1) * dx + eps_x, y0 + (jj.ravel() + 1) * dy + eps_y)
        cell_idx, geom_idx = self.tree.query(boxes, predicate="within")
        grid = np.full(nx * ny, -1, dtype=np.int64)
        grid[cell_idx] = geom_idx
        self._grid = grid.tolist()  # list indexing beats numpy scalar indexing per call
        self._grid_frame = (x0, y0, 1 / dx, 1 / dy, nx, ny)

    @classmethod
    def from_geojson(cls, path, crs: str = "wgs84", tolerance_m: float = 100.0,
                     name_property: str = "name") -> StreetIndex:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise GeoDataError(f"{path}: file not found") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise GeoDataError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise GeoDataError(f"{path}: not a GeoJSON FeatureCollection")
        features = []
        for i, feature in enumerate(data.get("features") or []):
            name = (feature.get("properties") or {}).get(name_property)
            if not name:
                raise GeoDataError(f"{path}: feature {i} has no {name_property!r} property")
            gtype = (feature.get("geometry") or {}).get("type")
            if gtype not in ("Polygon", "MultiPolygon"):
                raise GeoDataError(f"{path}: feature {i} ({name}) is a {gtype}, not a Polygon or MultiPolygon")
            try:
                geom = shape(feature["geometry"])
            except Exception as exc:
                raise GeoDataError(f"{path}: feature {i} ({name}) has bad coordinates: {exc}") from exc
            if not geom.is_valid:
                geom = shapely.make_valid(geom)
            features.append((name, geom))
        return cls(features, crs, tolerance_m)

    def _to_index_crs(self, lat: float, lon: float) -> tuple[float, float]:
        return wgs84_to_gcj02(lat, lon) if self.crs == "gcj02" else (lat, lon)

    def locate(self, lat: float, lon: float) -> Match:
        """The street owning a WGS-84 point (as Telegram sends it)."""
        y, x = self._to_index_crs(lat, lon)
        x0, y0, kx, ky, nx, ny = self._grid_frame
        i, j = int((x - x0) * kx), int((y - y0) * ky)
        if 0 <= i < nx and 0 <= j < ny and x >= x0 and y >= y0:
            k = self._grid[j * nx + i]
            if k >= 0:
                return self._inside[k]
        point = shapely.Point(x, y)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits):
            # On a shared border two polygons hold the point: the first in the file wins, always.
            return Match(self.names[int(hits.min())], True, 0.0)
        return self._nearest(point)

    def locate_many(self, lats, lons) -> list[Match]:
        lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
        if self.crs == "gcj02":
            pairs = [wgs84_to_gcj02(a, b) for a, b in zip(lats, lons, strict=True)]
            lats, lons = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        points = shapely.points(lons, lats)
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        best = np.full(len(points), -1)
        # The lowest polygon index per point, as in locate().
        order = np.lexsort((geom_idx, point_idx))
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        first = np.unique(point_idx, return_index=True)[1]
        best[point_idx[first]] = geom_idx[first]
        return [self._inside[g] if g >= 0 else self._nearest(points[i]) for i, g in enumerate(best)]

    def _nearest(self, point) -> Match:
        idx = int(self.tree.query_nearest(point, all_matches=False)[0])
        edge = nearest_points(self.geometries[idx], point)[0]
        metres = distance_m(point.y, point.x, edge.y, edge.x)
        if metres <= self.tolerance_m:
            return Match(self.names[idx], False, metres)
        return Match(None, False, metres)

    def representative_point(self, name: str) -> tuple[float, float]:
        """A WGS-84 (lat, lon) inside the street (for demos and tests)."""
        p = self.geometries[self.names.index(name)].representative_point()
        return gcj02_to_wgs84(p.y, p.x) if self.crs == "gcj02" else (p.y, p.x)

"""WGS-84 (GPS, Telegram) <-> GCJ-02 (the "Mars" datum of maps published in China).

The forward transform is a published closed formula, so it is exact. It has no closed-form inverse:
`gcj02_to_wgs84` iterates to well under a millimetre, which is far inside the 0.5 m we promise.
"""

from __future__ import annotations

import math

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lat: float, lon: float) -> bool:
    """True where the datum does not apply: a rough box around China, the one coordtransform uses."""
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _offset(lat, lon, sin, cos, sqrt):
    """GCJ-02 minus WGS-84 in degrees; math or numpy functions, so scalars and arrays share one formula."""
    x, y, pi = lon - 105.0, lat - 35.0, math.pi
    common = (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x)) + common
    dlat += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * sin(y / 12.0 * pi) + 320 * sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x)) + common
    dlon += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1 - _EE * sin(radlat) ** 2
    sqrtmagic = sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * cos(radlat) * pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if not (73.66 < lon < 135.05 and 3.86 < lat < 53.55):  # out_of_china, inlined: this is on locate's path
        return lat, lon
    dlat, dlon = _offset(lat, lon, math.sin, math.cos, math.sqrt)
    return lat + dlat, lon + dlon


def wgs84_to_gcj02_many(lats, lons) -> tuple[np.ndarray, np.ndarray]:
    """The forward transform on arrays (for bulk lookups); points outside China are left as they are."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    dlat, dlon = _offset(lats, lons, np.sin, np.cos, np.sqrt)
    keep = ~((73.66 < lons) & (lons < 135.05) & (3.86 < lats) & (lats < 53.55))  # out_of_china
    return np.where(keep, lats, lats + dlat), np.where(keep, lons, lons + dlon)


def gcj02_to_wgs84(lat: float, lon: float, max_rounds: int = 20) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lon): approximate, not exact.

    Fixed-point iteration: the offset changes by ~1e-5 of a step, so each round gains ~5 digits and
    3-4 rounds reach 1e-12 degrees (~0.1 µm); the tests check < 0.5 m over the whole of China.
    """
    if not (73.66 < lon < 135.05 and 3.86 < lat < 53.55):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(max_rounds):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        elat, elon = glat - lat, glon - lon
        wlat, wlon = wlat - elat, wlon - elon
        if abs(elat) < 1e-12 and abs(elon) < 1e-12:
            break
    return wlat, wlon

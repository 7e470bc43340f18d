"""GPS position from a photo's EXIF (photos sent as files keep it; Telegram's compressed photos do not)."""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image

GPS_IFD = 0x8825
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4  # GPSLatitudeRef, GPSLatitude, GPSLongitudeRef, GPSLongitude


def _degrees(value) -> float:
    """(degrees, minutes, seconds) as rationals; some writers store fewer parts, e.g. decimal degrees."""
    parts = [float(x) for x in (value if isinstance(value, tuple | list) else (value,))]
    if not 1 <= len(parts) <= 3 or any(not math.isfinite(x) or x < 0 for x in parts):
        raise ValueError(f"not a GPS angle: {value!r}")  # 0/0 rationals read as nan
    return sum(x / 60**i for i, x in enumerate(parts))


def _sign(ref, positive: str, negative: str) -> int:
    ref = (ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref or positive)).strip("\0 ")
    ref = ref.upper() or positive  # a missing reference: assume the northern/eastern hemisphere
    if ref not in (positive, negative):
        raise ValueError(f"not a GPS reference: {ref!r}")
    return -1 if ref == negative else 1


def gps_from_exif(data: bytes | Path) -> tuple[float, float] | None:
    """(lat, lon) in WGS-84 (what GPS receivers record), or None when there is no usable position.

    Never raises: not an image, no EXIF, no GPS block, garbage or out-of-range values all give None,
    because a photo without a position is normal and the caller then asks the user for the place.
    """
    try:
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        with Image.open(source) as img:  # reads the headers only, never decodes the pixels
            gps = img.getexif().get_ifd(GPS_IFD)
        lat = _sign(gps.get(LAT_REF), "N", "S") * _degrees(gps[LAT])
        lon = _sign(gps.get(LON_REF), "E", "W") * _degrees(gps[LON])
    except Exception:  # PIL.UnidentifiedImageError, KeyError, ValueError, ZeroDivisionError, struct.error...
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):  # (0, 0): an unset receiver
        return None
    return lat, lon

"""GPS position from a photo's EXIF (photos sent as files keep it; Telegram photos do not)."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def _degrees(dms) -> float:
    d, m, s = (float(x) for x in dms)
    return d + m / 60 + s / 3600


def gps_from_exif(data: bytes) -> tuple[float, float] | None:
    """(lat, lon) in WGS-84, or None when the image has no usable GPS tags. Never raises."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            gps = img.getexif().get_ifd(GPS_IFD)
        lat, lon = _degrees(gps[2]), _degrees(gps[4])
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except Exception:  # no EXIF, no GPS, malformed rationals, not an image: no position
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon

"""Pictures for the demo and the tests, made in memory with Pillow."""

from __future__ import annotations

import functools
import io
import zlib

from PIL import Image, ImageDraw


def jpeg(width: int = 640, height: int = 480, color=(120, 110, 100), label: str = "pothole",
         gps: tuple[float, float] | None = None) -> bytes:
    img = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(img)
    draw.ellipse((width // 4, height // 3, width * 3 // 4, height * 2 // 3), fill=(40, 40, 40))
    draw.text((10, 10), label, fill=(255, 255, 255))
    exif = Image.Exif()
    exif[0x010F] = "DemoCam"  # Make: staff must never see camera data either
    if gps:
        exif[0x8825] = gps_ifd(*gps)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def gps_ifd(lat: float, lon: float) -> dict:
    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 4)
        return (float(d), float(m), float(s))
    return {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}


@functools.lru_cache(maxsize=2)
def png_bomb(side: int = 30000) -> bytes:
    """A tiny PNG that claims `side` x `side` pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    body = zlib.compress(row * side, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def corrupt_jpeg() -> bytes:
    good = jpeg()
    return good[: len(good) // 3]  # cut in the middle of the scan data


def fake_heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

"""Checking and keeping photos: the original under media/<sha256>, a copy without EXIF for staff."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError


class MediaError(Exception):
    """`key` names the reply text the citizen gets (see bot/texts.py)."""

    def __init__(self, key: str, **args):
        super().__init__(key)
        self.key = key
        self.args_ = args


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    width: int
    height: int
    path: Path
    has_exif: bool


def inspect_and_store(data: bytes, media_dir: Path, max_bytes: int, max_pixels: int) -> StoredImage:
    if len(data) > max_bytes:
        raise MediaError("too_big", mb=max_bytes // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format
            width, height = img.size
            if width * height > max_pixels:
                raise MediaError("bomb")
            img.load()  # decodes everything: a truncated/corrupt file fails here, not later
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError("bomb") from exc
    except UnidentifiedImageError as exc:
        raise MediaError("heic" if _looks_heic(data) else "not_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError("corrupt") from exc
    if fmt not in {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"}:
        raise MediaError("not_image")
    sha = hashlib.sha256(data).hexdigest()
    media_dir.mkdir(parents=True, exist_ok=True)
    path = media_dir / f"{sha}.{fmt.lower()}"
    if not path.exists():
        path.write_bytes(data)
    return StoredImage(sha, width, height, path, bool(img.getexif()))


def original_path(media_dir: Path, sha256: str) -> Path:
    """The kept original of a photo (its suffix is the image format it came in)."""
    return next(p for p in media_dir.glob(f"{sha256}.*") if ".staff." not in p.name)


def stripped_copy(original: Path) -> Path:
    """A JPEG without EXIF (GPS, camera serials) for showing to staff; rotated as the camera meant."""
    target = original.with_name(original.stem + ".staff.jpg")
    if not target.exists():
        with Image.open(original) as img:
            clean = ImageOps.exif_transpose(img).convert("RGB")
            clean.save(target, "JPEG", quality=88)  # no exif= argument: nothing carried over
    return target


def _looks_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"hevc"}

"""Checking and keeping photos: the original under media/<sha256>, a copy without metadata for staff."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

FILE_MODE, DIR_MODE = 0o640, 0o750  # originals carry GPS: no access for other users of the machine


class MediaError(Exception):
    """`key` names the reply text the citizen gets (see ui/texts.py)."""

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


def inspect_and_store(data: bytes | Path, media_dir: Path, max_bytes: int, max_pixels: int) -> StoredImage:
    """Check an image and keep its original as media/<sha256>.<format>. `data` is the bytes, or a
    downloaded file, which is moved into place when it passes and deleted when it does not."""
    try:
        return _inspect_and_store(data, media_dir, max_bytes, max_pixels)
    except BaseException:
        if isinstance(data, Path):
            data.unlink(missing_ok=True)
        raise


def _inspect_and_store(data: bytes | Path, media_dir: Path, max_bytes: int, max_pixels: int) -> StoredImage:
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if size > max_bytes:
        raise MediaError("too_big", mb=max_bytes // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data if isinstance(data, Path) else io.BytesIO(data)) as img:
                fmt = img.format
                width, height = img.size
                if width * height > max_pixels:
                    raise MediaError("bomb")
                img.load()  # decodes everything: a truncated/corrupt file fails here, not later
                has_exif = bool(img.getexif())
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError("bomb") from exc
    except UnidentifiedImageError as exc:
        raise MediaError("heic" if _looks_heic(_head(data)) else "not_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError("corrupt") from exc
    if fmt not in {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"}:
        raise MediaError("not_image")
    sha = _sha256(data)
    make_private_dir(media_dir)
    path = media_dir / f"{sha}.{fmt.lower()}"
    if isinstance(data, Path):
        if path.exists():
            data.unlink()
        else:
            os.chmod(data, FILE_MODE)
            data.replace(path)
    elif not path.exists():
        write_private(path, data, FILE_MODE)
    return StoredImage(sha, width, height, path, has_exif)


def _head(data: bytes | Path) -> bytes:
    if isinstance(data, bytes):
        return data[:16]
    with data.open("rb") as f:
        return f.read(16)


def _sha256(data: bytes | Path) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with data.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


def make_private_dir(path: Path) -> None:
    """The media folder: readable by its owner and group only."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)


def write_private(path: Path, data: bytes, mode: int) -> None:
    """Write a new file created with `mode` at once (no moment with wider rights); an existing one is kept."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def original_path(media_dir: Path, sha256: str) -> Path:
    """The kept original of a photo (its suffix is the image format it came in)."""
    return next(p for p in media_dir.glob(f"{sha256}.*") if ".staff." not in p.name)


def stripped_copy(original: Path) -> Path:
    """A JPEG without EXIF, XMP or comments (GPS, camera serials, notes) for showing to staff;
    rotated as the camera meant. Only the colour profile and resolution are carried over."""
    target = original.with_name(original.stem + ".staff.jpg")
    if not target.exists():
        with Image.open(original) as img:
            clean = ImageOps.exif_transpose(img).convert("RGB")
        # Pillow writes info's "comment" (the JPEG COM segment) and "xmp" back when saving: keep neither.
        clean.info = {k: v for k, v in clean.info.items() if k in ("icc_profile", "dpi")}
        out = io.BytesIO()
        clean.save(out, "JPEG", quality=88)  # no exif= argument: nothing carried over
        write_private(target, out.getvalue(), FILE_MODE)
    return target


def _looks_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"hevc"}


def tag_secret(media_dir: Path) -> bytes:
    """The key of reporters' anonymous tags: made once, kept beside the media (back them up together)."""
    path = Path(media_dir) / ".tag_secret"
    if not path.exists():  # created 0600 from the start: no moment when others may read it
        make_private_dir(Path(media_dir))
        write_private(path, secrets.token_hex(32).encode(), 0o600)
    return path.read_text().strip().encode()

"""Files the emulator knows: what users sent and what the bot uploaded, addressable by file_id and file_path."""

from __future__ import annotations

import io
import itertools
import warnings
from dataclasses import dataclass, field

from emulator.wire import bad_request

GET_FILE_LIMIT = 20 * 1024 * 1024  # the Bot API's download limit
THUMB_SIDE = 90
EXTENSIONS = {"photo": ".jpg", "sticker": ".webp", "voice": ".oga", "document": ""}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, document, sticker, voice
    data: bytes = field(repr=False)
    file_path: str
    width: int = 0
    height: int = 0
    sizes: list[dict] = field(default_factory=list)  # for a photo: the PhotoSize list it belongs to
    file_name: str | None = None
    mime_type: str | None = None

    def size_dict(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "width": self.width,
                "height": self.height, "file_size": len(self.data)}

    def document(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_name": self.file_name or "file",
                "mime_type": self.mime_type or "application/octet-stream", "file_size": len(self.data)}


class FileStore:
    def __init__(self):
        self._ids = itertools.count(1)
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}

    def add(self, data: bytes, kind: str, file_name: str | None = None, mime_type: str | None = None) -> StoredFile:
        n = next(self._ids)
        ext = EXTENSIONS.get(kind, "")
        if kind == "document" and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1].lower()
        folder = {"photo": "photos", "voice": "voice", "sticker": "stickers"}.get(kind, "documents")
        stored = StoredFile(f"{kind[:3].upper()}-{n:06d}-{len(data)}", f"U{n:06d}", kind, data,
                            f"{folder}/file_{n}{ext}", file_name=file_name, mime_type=mime_type)
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        if file_id not in self.by_id:
            raise bad_request("invalid file_id")
        return self.by_id[file_id]

    def photo(self, data: bytes) -> list[dict]:
        """A new photo: a PhotoSize list, smallest first; the largest size holds the very bytes given."""
        big = self.add(data, "photo")
        big.width, big.height = image_size(data)
        sizes = [big]
        thumb = thumbnail(data)
        if thumb:
            small = self.add(thumb, "photo")
            small.width, small.height = image_size(thumb)
            sizes.insert(0, small)
        dicts = [s.size_dict() for s in sizes]
        for s in sizes:
            s.sizes = dicts
        return dicts

    def resend_photo(self, file_id: str) -> list[dict]:
        """Sending an existing file_id as a photo re-uses its sizes; Telegram refuses a non-photo file."""
        if file_id.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self.by_id.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != "photo":
            raise bad_request("type of file mismatch")
        return stored.sizes

    def get_file(self, file_id: str) -> dict:
        stored = self.get(file_id)
        if len(stored.data) > GET_FILE_LIMIT:
            raise bad_request("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header only (Image.open does not decode the pixels)."""
    try:
        from PIL import Image
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb's warning is the bot's business, not ours
            with Image.open(io.BytesIO(data)) as img:
                return img.size
    except Exception:  # not a picture, or one PIL refuses to open: Telegram would not call it a photo anyway
        return 100, 100


def thumbnail(data: bytes) -> bytes | None:
    """A small JPEG of a decodable, modest-sized picture; None otherwise (then there is one size)."""
    try:
        from PIL import Image
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > 40_000_000:
                return None
            img.thumbnail((THUMB_SIDE, THUMB_SIDE))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=60)
            return out.getvalue()
    except Exception:
        return None

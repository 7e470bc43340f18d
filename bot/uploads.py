"""Receiving a photo: every check that needs no download first, then a streamed download, then a
bounded decode.

Before: a 20 MB file (2 GB from a self-hosted Bot API server) was downloaded into memory, copied,
and decoded before any draft, size or hourly check, with as many decodes at once as updates. Now
the announced size and the user's hourly quota are checked before the download, the download
goes to disk a chunk at a time and stops at `media.max_bytes`, and at most `media.max_decodes`
images are decoded at once (a 40 MP decode holds ~160 MB).
"""

from __future__ import annotations

import asyncio
import secrets

from bot.transport import AiohttpRequest
from storage import media
from storage.media import MediaError, StoredImage, make_private_dir


def too_big(max_bytes: int) -> MediaError:
    return MediaError("too_big", mb=max_bytes // (1024 * 1024))


async def receive_photo(context, user_id: int, file_id: str, announced: int | None) -> StoredImage:
    """Check, download and keep a user's photo. Raises MediaError (what the user is told)."""
    cfg = context.application.bot_data["config"]
    limit = cfg.media.max_bytes
    if announced and announced > limit:  # Telegram says how big it is: no need to fetch it to refuse it
        raise too_big(limit)
    quota = context.application.bot_data["uploads"]
    if not await quota.allows(user_id, announced or 0):
        raise MediaError("upload_quota", mb=cfg.intake.max_upload_mb_per_hour)
    file = await context.bot.get_file(file_id)
    if file.file_size and file.file_size > limit:
        raise too_big(limit)
    incoming = cfg.media.dir / ".incoming"  # inside the media folder: same disk, a rename moves it
    make_private_dir(incoming)
    target = incoming / f"{secrets.token_hex(8)}.part"
    try:
        size = await _download(context.bot, file, target, limit)
    except ValueError:  # bigger than announced: cut off at the limit
        target.unlink(missing_ok=True)
        await quota.record(user_id, limit)
        raise too_big(limit) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    await quota.record(user_id, size)
    async with decode_slot(context.application.bot_data, cfg.media.max_decodes):
        # Decoding takes CPU time: off the event loop. The file is moved into place or deleted.
        return await asyncio.to_thread(media.inspect_and_store, target, cfg.media.dir, limit, cfg.media.max_pixels)


def decode_slot(bot_data: dict, n: int) -> asyncio.Semaphore:
    """The application's decode semaphore (made on first use, in the running loop)."""
    if "decodes" not in bot_data:
        bot_data["decodes"] = asyncio.Semaphore(n)
    return bot_data["decodes"]


async def _download(bot, file, target, limit: int) -> int:
    request = bot.request
    if isinstance(request, AiohttpRequest) and not bot.local_mode:
        return await request.stream_to(file.file_path, target, limit)
    # Another HTTP client, or a local Bot API server's file path: PTB's own download.
    await file.download_to_drive(target)
    size = target.stat().st_size
    if size > limit:
        raise ValueError(f"file over {limit} bytes")
    return size

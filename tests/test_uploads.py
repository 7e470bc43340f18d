"""Uploads checked before they are fetched: room in the draft, the announced size, the hourly quota;
downloads streamed to disk; a bounded number of decodes at once."""

import asyncio
import io
import os
import re
import subprocess
import sys
import threading
import time
import tracemalloc

import pytest
from PIL import Image

from bot.transport import AiohttpRequest
from demo.district import District
from storage import media

MB = 1024 * 1024


def big_jpeg(side: int = 1200) -> bytes:
    """~1.7 MB of noise, made once; distinct copies differ after the end-of-image marker."""
    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95)
    return out.getvalue()


def originals(d) -> list:
    return [p for p in d.cfg.media.dir.iterdir() if p.is_file() and not p.name.startswith(".")]


@pytest.fixture
async def district_with(cfg, clock, tmp_path):
    made = []

    async def make(**changes):
        for dotted, value in changes.items():
            section, key = dotted.split("__")
            setattr(getattr(cfg, section), key, value)
        d = District(cfg, tmp_path, clock=clock)
        await d.start()
        made.append(d)
        return d
    yield make
    for d in made:
        await d.stop()


async def test_fifty_large_photos_use_bounded_disk_and_get_a_clear_answer(district_with):
    d = await district_with()
    emu, user = d.emu, d.citizen(8301)
    base = big_jpeg()
    assert len(base) > MB
    for i in range(50):
        await emu.send_photo(user, user.id, base + b"\x00" * i)  # 50 different files
    refusals = await emu.wait_for_message(user.id, "最多 5 张照片", count=45, timeout=60)
    assert len(refusals) == 45
    assert len(emu.calls_to("downloadFile")) == 5, "a full draft refuses before downloading"
    assert len(originals(d)) == 5
    assert not list((d.cfg.media.dir / ".incoming").glob("*"))
    # (memory: the emulator in this process holds the 50 files; see test_a_download_streams_to_disk)


async def test_announced_size_over_the_limit_is_refused_without_fetching(district_with):
    d = await district_with(media__max_bytes=MB)
    emu, user = d.emu, d.citizen(8302)
    await emu.send_photo(user, user.id, big_jpeg())
    assert await d.wait_text(user.id, "图片太大（上限 1 MB）")
    assert emu.calls_to("getFile") == [] and emu.calls_to("downloadFile") == []
    assert originals(d) == []


async def test_a_file_bigger_than_announced_is_cut_off_and_leaves_nothing(district_with):
    d = await district_with(media__max_bytes=MB)
    emu, user = d.emu, d.citizen(8304)
    sizes = emu.files.photo(big_jpeg())
    for size in sizes:
        size["file_size"] = 1000  # what a lying (or buggy) server announces
    real = emu.files.get_file
    emu.files.get_file = lambda file_id: {**real(file_id), "file_size": 1000}
    msg = {"message_id": 1, "date": 0, "chat": emu.chats[user.id], "from": user.to_dict(), "photo": sizes}
    await emu.send_raw_update({"message": msg})
    assert await d.wait_text(user.id, "图片太大（上限 1 MB）")
    assert len(emu.calls_to("downloadFile")) == 1 and originals(d) == []
    assert not list((d.cfg.media.dir / ".incoming").glob("*"))


async def test_the_hourly_upload_quota_is_checked_before_downloading(district_with, clock):
    d = await district_with(intake__max_upload_mb_per_hour=4)
    emu, user = d.emu, d.citizen(8303)
    base = big_jpeg()
    for i in range(2):
        n = len(emu.messages(user.id))
        await emu.send_photo(user, user.id, base + bytes([i]))
        await emu.wait_for(lambda n=n: len(emu.messages(user.id)) > n)
    await d.text(user, "/cancel")
    await d.wait_text(user.id, "已取消")
    await emu.send_photo(user, user.id, base + b"\x07")
    assert await d.wait_text(user.id, "这一小时上传的照片已达 4 MB")
    assert len(emu.calls_to("downloadFile")) == 2
    clock.advance(minutes=61)
    n = len(emu.messages(user.id))
    await emu.send_photo(user, user.id, base + b"\x08")
    await emu.wait_for(lambda: len(emu.messages(user.id)) > n)
    assert len(emu.calls_to("downloadFile")) == 3


async def test_decodes_are_bounded(district_with, monkeypatch):
    d = await district_with(media__max_decodes=1)
    active, most, lock = [0], [0], threading.Lock()
    real = media.inspect_and_store

    def slow(*args, **kwargs):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)
            return real(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1
    monkeypatch.setattr(media, "inspect_and_store", slow)
    users = [d.citizen(8400 + i) for i in range(4)]
    base = big_jpeg(side=300)
    await asyncio.gather(*(d.emu.send_photo(u, u.id, base + bytes([i])) for i, u in enumerate(users)))
    for u in users:
        await d.wait_text(u.id, "位置")
    assert most[0] == 1
    assert len(originals(d)) == 4


async def test_a_download_streams_to_disk(tmp_path):
    """Memory measured against a file server in another process: only the bot's side is counted."""
    (tmp_path / "big.jpg").write_bytes(os.urandom(8 * MB))
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    request = AiohttpRequest()
    await request.initialize()
    try:
        port = re.search(r"port (\d+)", server.stdout.readline()).group(1)
        url = f"http://127.0.0.1:{port}/big.jpg"
        tracemalloc.start()
        size = await request.stream_to(url, tmp_path / "a.part", 10 * MB)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert size == 8 * MB and (tmp_path / "a.part").read_bytes() == (tmp_path / "big.jpg").read_bytes()
        assert peak < 2 * MB, peak  # a chunk at a time, not the whole file
        with pytest.raises(ValueError):
            await request.stream_to(url, tmp_path / "b.part", 4 * MB)  # stops past the limit
    finally:
        await request.shutdown()
        server.terminate()
        server.wait()

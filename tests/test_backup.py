"""`python -m bot backup PATH` while the bot runs, and the copy restored: the restored bot knows the case."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys

import pytest

from bot.backup import libpq_url
from demo.district import District
from emulator.images import jpeg
from tests import pg
from tests.conftest import ROOT

STREET = "温泉街道"


def _config(tmp_path, url: str):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "sqlite+aiosqlite:///var/frontline.sqlite3", url)
    for name in ("gulou_streets.geojson", "gulou_grids.geojson"):
        text = text.replace(f"data/{name}", str(ROOT / "data" / name))
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def _run(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_backup_while_running_and_restore(district, cfg, clock, tmp_path):
    d = district
    receipt = await d.report(d.citizen(7501), jpeg(), *d.core.streets.representative_point(STREET))
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group()
    dump = tmp_path / "backup" / "frontline.dump"
    out = await _run(sys.executable, "-m", "bot", "--config", str(_config(tmp_path, d.cfg.database.url)),
                     "backup", str(dump))  # the bot is running meanwhile
    assert dump.exists() and str(dump) in out
    await d.report(d.citizen(7502), jpeg(label="later"), *d.core.streets.representative_point(STREET))

    restored = tmp_path / "restored"
    restored.mkdir()
    if pg.URL:
        if not shutil.which("pg_restore"):
            pytest.skip("pg_restore not installed")
        url = pg.create_database(migrated=False)
        await _run("pg_restore", "--no-owner", "-d", libpq_url(url), str(dump))
        cfg.database.url = url
    else:
        shutil.copy(dump, restored / "frontline.sqlite3")  # the bot's file in its work directory
    try:
        async with District(cfg, restored, clock=clock) as r:
            shutil.copy(d.cfg.media.dir / ".tag_secret", r.cfg.media.dir / ".tag_secret")
            citizen = r.citizen(7501)
            await r.emu.send_text(citizen, citizen.id, "/mycases")
            msg = await r.wait_text(citizen.id, number)
            assert number in msg["text"]
            other = r.citizen(7502)
            await r.emu.send_text(other, other.id, "/mycases")
            reply = await r.emu.wait_for(lambda: r.emu.messages(other.id))
            assert "GL-" not in reply[0]["text"], "the case made after the backup is not in it"
    finally:
        if pg.URL:
            pg.drop_database(url)

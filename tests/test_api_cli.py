"""`python -m bot api`: the Open311 API alone, without Telegram, on the bot's database."""

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys

import aiohttp
import yaml

from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_api_alone_files_cases_into_the_bots_database(tmp_path):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for key in ("streets_file", "grids_file"):
        raw["geo"][key] = str(ROOT / raw["geo"][key])
    raw["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    raw["media"]["dir"] = str(tmp_path / "media")
    port = free_port()
    raw["api"].update(listen="127.0.0.1", port=port)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}, "HOTLINE_12345_API_KEY": "k-1"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(tmp_path / "c.yaml"),
                                                "api", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/open311/v2"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/services.json") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            form = {"api_key": "k-1", "service_code": "garbage", "lat": "26.095", "long": "119.3185",
                    "external_id": "alone-1"}
            async with http.post(f"{base}/requests.json", data=form) as resp:
                assert resp.status == 201
                number = json.loads(await resp.read())[0]["service_request_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    con = sqlite3.connect(tmp_path / "db.sqlite3")
    rows = con.execute("select street, channel, state from cases where number = ?", (number,)).fetchall()
    cards = con.execute("select count(*) from outbox where kind = 'street_card' and status = 'pending'").fetchone()
    con.close()
    assert rows == [("温泉街道", "hotline12345", "routed")]
    assert cards == (1,)  # left for the bot process's delivery worker

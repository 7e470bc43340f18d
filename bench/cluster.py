"""Replicas of the real bot as separate processes on one PostgreSQL database, behind the emulator's
webhook (shared by bench/chaos.py and bench/replicas.py).

    async with Cluster(pg_url, replicas=2, tmp=...) as c:   # c.district: the emulator and people
        ...; c.kill(0); await c.start(0)

Each replica is `python -m bot --config <generated>` in webhook mode on its own port; the emulator
delivers updates round-robin to the live ones (its webhook_targets stand in for a load balancer).
The database is a fresh one on the server at `pg_url` (dropped at the end).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import yaml
from sqlalchemy.engine import make_url

from bench.setup import emulator_config
from bot.config import load_config
from demo.district import District, free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-" + secrets.token_hex(8)


def create_database(admin_url: str) -> str:
    import psycopg
    u = make_url(admin_url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                         dbname=u.database or "postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    import psycopg
    u = make_url(admin_url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                         dbname=u.database or "postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def one_report(d: District, user, photo: bytes, lat: float, lon: float, timeout: float = 60,
                     category: str = "垃圾堆放") -> None:
    """A citizen's report, each step waiting for the bot's question as a phone would."""
    emu, chat = d.emu, user.id
    n = len(emu.messages(chat))
    await emu.send_photo(user, chat, photo)
    await emu.wait_for(lambda: len(emu.messages(chat)) > n, timeout, chat)
    await emu.send_location(user, chat, lat, lon)
    for label in (category, "跳过", "确认"):
        await d.wait_button(chat, label, timeout)
        await d.tap_last(user, chat, label)


class Cluster:
    def __init__(self, admin_url: str, tmp: Path, replicas: int = 2, tweak=None, env: dict | None = None):
        self.admin_url, self.tmp, self.n = admin_url, tmp, replicas
        self.tweak, self.extra_env = tweak, env or {}
        self.url: str | None = None
        self.district: District | None = None
        self.procs: list[asyncio.subprocess.Process | None] = [None] * replicas
        self.ports = [free_port() for _ in range(replicas)]

    async def __aenter__(self) -> Cluster:
        self.url = await asyncio.to_thread(create_database, self.admin_url)
        cfg = load_config(ROOT / "config.yaml")
        d = self.district = District(cfg, self.tmp)
        await d.emu.start()
        d._make_groups()
        d.emu.webhook_targets = [f"http://127.0.0.1:{p}/telegram" for p in self.ports]
        raw = emulator_config(d.emu, self.tmp, self.url)
        raw["telegram"]["mode"] = "webhook"
        if self.tweak:
            self.tweak(raw)
        for i, port in enumerate(self.ports):
            raw["webhook"] = {"url": f"http://127.0.0.1:{self.ports[0]}/telegram", "port": port}
            (self.tmp / f"replica{i}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        # one reporter-tag secret for all replicas (each would otherwise make its own at the same moment)
        (self.tmp / "media").mkdir(parents=True, exist_ok=True)
        (self.tmp / "media" / ".tag_secret").write_text(secrets.token_hex(32))
        for i in range(self.n):
            await self.start(i)
        return self

    async def __aexit__(self, *exc) -> None:
        for i in range(self.n):
            await self.stop(i)
        await self.district.emu.stop()
        await asyncio.to_thread(drop_database, self.admin_url, self.url)

    async def start(self, i: int) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": self.district.emu.token, "WEBHOOK_SECRET_TOKEN": SECRET,
               **self.extra_env}
        log = open(self.tmp / f"replica{i}.log", "ab")  # noqa: SIM115 (the child writes to it)
        self.procs[i] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.tmp / f"replica{i}.yaml"), "--log-format", "json",
            cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()
        await self.ready(i)

    async def ready(self, i: int, timeout: float = 90) -> None:
        """Until the replica's server answers GET /healthz (whatever it says)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while True:
                try:
                    async with s.get(f"http://127.0.0.1:{self.ports[i]}/healthz") as r:
                        await r.read()
                        return
                except aiohttp.ClientError:
                    if time.monotonic() > deadline or self.procs[i].returncode is not None:
                        raise RuntimeError(f"replica {i} did not start; see {self.tmp}/replica{i}.log") from None
                    await asyncio.sleep(0.2)

    def kill(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)

    async def stop(self, i: int) -> None:
        proc = self.procs[i]
        if proc and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if proc:
            await proc.wait()

    async def get(self, i: int, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{self.ports[i]}{path}") as r:
            return r.status, await r.text()

    def query(self, sql: str) -> list[tuple]:
        import psycopg
        u = make_url(self.url)
        with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                             dbname=u.database) as con:
            return con.execute(sql).fetchall()

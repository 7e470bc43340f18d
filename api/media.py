"""Fetching a request's media_url once: http(s) only, public addresses only (unless the channel names
its own host), a time limit, and the same size and pixel limits as a Telegram photo. A failure is
returned as a reason, never raised: the case is kept and its trace says the photo could not be had."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from storage.media import MediaError, inspect_and_store


class _Checked(AbstractResolver):
    """Connects only to the addresses already checked: a second DNS answer cannot swap in a private one."""

    def __init__(self, host: str, addresses: list[str]):
        self.host, self.addresses = host, addresses

    async def resolve(self, host, port=0, family=socket.AF_INET):
        if host != self.host:
            raise OSError(f"unexpected host {host}")
        return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for a in self.addresses]

    async def close(self):
        pass


async def _addresses(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def fetch_photo(url: str, media_dir: Path, max_bytes: int, max_pixels: int, timeout: float,
                      own_hosts: frozenset[str] = frozenset()) -> tuple[dict | None, str | None]:
    """Returns (photo, None) with sha256/width/height, or (None, why it failed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "only http and https URLs are fetched"
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await asyncio.wait_for(_addresses(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        return None, f"cannot resolve {host}: {exc!r}"
    if host not in own_hosts:
        private = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global]
        if private or not addresses:
            return None, f"{host} is a private or loopback address ({', '.join(private) or 'none'})"
    connector = aiohttp.TCPConnector(resolver=_Checked(host, addresses), force_close=True)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout),
                                         trust_env=False) as http:
            async with http.get(url, allow_redirects=False) as resp:
                if resp.status != 200:
                    return None, f"HTTP {resp.status}"
                if (resp.content_length or 0) > max_bytes:
                    return None, f"larger than {max_bytes} bytes"
                data = await resp.content.read(max_bytes + 1)
                if len(data) > max_bytes:
                    return None, f"larger than {max_bytes} bytes"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return None, f"fetch failed: {exc!r}"
    try:
        stored = await asyncio.to_thread(inspect_and_store, data, media_dir, max_bytes, max_pixels)
    except MediaError as exc:
        return None, f"not a usable image ({exc.key})"
    return {"sha256": stored.sha256, "width": stored.width, "height": stored.height}, None

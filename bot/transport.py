"""The bot's HTTP client: python-telegram-bot's networking on aiohttp instead of httpx.

PTB lets an application bring its own `BaseRequest`. bench/floor.py measured why we do: a bot
that makes nothing but a report's Bot API calls spent 2.71 ms of CPU per call through httpx
(httpcore, anyio, h11) and 0.67 ms through aiohttp on this machine (docs/BENCHMARKS.md); the
real bot makes about 15 calls per report. aiohttp is already a dependency (the emulator's server).

Same contract as PTB's HTTPXRequest: the timeouts of each call (read, connect, pool) apply, a
timeout raises TimedOut (the request may have reached Telegram), any other transport failure
NetworkError; files go as multipart/form-data, everything else form-encoded.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import health, metrics

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 8, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0):
        self._pool_size = connection_pool_size
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str | None], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The session belongs to the running loop: made here, not in __init__. As with httpx:
            # certifi's CA bundle (a slim image may have no system one) and the HTTP(S)_PROXY /
            # NO_PROXY environment (where Telegram is blocked, a proxy is how the bot reaches it).
            tls = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=tls),
                headers={"User-Agent": self.USER_AGENT})
            self._proxies = {}

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        data = request_data.json_parameters if request_data else None
        # aiohttp has no write timeout; an upload is bounded by the media write timeout instead.
        total = None
        if files and self._media_write is not None:
            write = self._media_write if isinstance(write_timeout, DefaultValue) else write_timeout
            total = None if write is None else write + (read or 0) + (connect or 0) + (pool or 0)
        # aiohttp's `connect` covers waiting for a free connection and opening one: PTB's pool + connect.
        acquire = None if pool is None and connect is None else (pool or 0) + (connect or 0)
        timeout = aiohttp.ClientTimeout(total=total, sock_read=read, sock_connect=connect, connect=acquire)
        headers = None
        if files:
            body = _multipart(data, files)
        elif data:  # encoded here: given a dict, aiohttp builds a FormData, whose multipart writer draws a uuid4
            body, headers = urlencode(data).encode(), FORM
        else:
            body = None
        started = time.monotonic()
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout,
                                             proxy=self._proxy(url)) as res:
                content = await res.read()
        except TimeoutError as err:  # aiohttp's timeouts subclass it; the request may have been sent
            metrics.bot_api_call(url, started, None, "timeout")
            raise TimedOut from err
        except (aiohttp.ClientError, OSError) as err:
            metrics.bot_api_call(url, started, None, "network")
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        metrics.bot_api_call(url, started, res.status)
        if res.status < 500:
            health.bot_api_answered()
        return res.status, content

    def _proxy(self, url: str) -> str | None:
        """The environment's proxy for this URL's host, looked up once per host: aiohttp's trust_env
        looks it up, and reads ~/.netrc, on every request, each in a worker thread (bench.floor:
        25.3 instead of 10.0 ms of CPU per report)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname)
        if key not in self._proxies:
            proxy = getproxies().get(parts.scheme)
            self._proxies[key] = proxy if proxy and not proxy_bypass(parts.hostname or "") else None
        return self._proxies[key]


def _multipart(data: dict | None, files: dict) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in (data or {}).items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form

"""The bot's HTTP client: python-telegram-bot's networking on aiohttp instead of httpx.

PTB lets an application bring its own `BaseRequest`. bench/floor.py measured why we do: a bot
that makes nothing but a report's Bot API calls spent 2.71 ms of CPU per call through httpx
(httpcore, anyio, h11) and 0.67 ms through aiohttp on this machine (docs/BENCHMARKS.md); the
real bot makes about 15 calls per report. aiohttp is already a dependency (the emulator's server).

Same contract as PTB's HTTPXRequest: the timeouts of each call (read, connect, pool) apply, a
timeout raises TimedOut (the request may have reached Telegram), any other transport failure
NetworkError; files go as multipart/form-data, everything else form-encoded.

Two additions for the networks this bot serves: an error never carries the URL (it holds the token;
bot/redact.py), and a SOCKS proxy (socks5://, socks5h://, socks4://; the usual way to reach Telegram
from a restricted network) goes through aiohttp-socks' connector, as aiohttp itself speaks HTTP proxies only.
"""

from __future__ import annotations

import ssl
import time
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import certifi
from aiohttp_socks import ProxyConnector
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import health, metrics
from bot.redact import redact

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 8, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0, proxy: str | None = None):
        self._pool_size = connection_pool_size
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str | None], str | None] = {}
        self._proxy_cfg = proxy  # telegram.proxy in the config: used for every request
        self._socks: dict[str, aiohttp.ClientSession] = {}  # a session per SOCKS proxy (the connector is it)

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The session belongs to the running loop: made here, not in __init__. As with httpx:
            # certifi's CA bundle (a slim image may have no system one) and the HTTP(S)_PROXY /
            # NO_PROXY environment (where Telegram is blocked, a proxy is how the bot reaches it).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=_tls()),
                headers={"User-Agent": self.USER_AGENT})
            self._proxies = {}

    async def shutdown(self) -> None:
        for session in [self._session, *self._socks.values()]:
            if session is not None and not session.closed:
                await session.close()
        self._session, self._socks = None, {}

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
        session, proxy = self._route(url)
        started = time.monotonic()
        # `from None`: aiohttp's errors name the URL, and a chained cause is printed in every traceback.
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout,
                                       proxy=proxy) as res:
                content = await res.read()
        except TimeoutError as err:  # aiohttp's timeouts subclass it; the request may have been sent
            metrics.bot_api_call(url, started, None, "timeout")
            raise TimedOut(f"Timed out ({_describe(err)})") from None
        except (aiohttp.ClientError, OSError, ValueError) as err:  # ValueError: python-socks' refusals
            metrics.bot_api_call(url, started, None, "network")
            raise NetworkError(_describe(err)) from None
        metrics.bot_api_call(url, started, res.status)
        if res.status < 500:
            health.bot_api_answered()
        return res.status, content

    def _route(self, url: str) -> tuple[aiohttp.ClientSession, str | None]:
        """The session and HTTP proxy for this URL: a SOCKS proxy is the session's own connector."""
        proxy = self._proxy(url)
        if not proxy or not proxy.lower().startswith("socks"):
            return self._session, proxy
        if proxy not in self._socks or self._socks[proxy].closed:
            scheme, rest = proxy.split("://", 1)
            remote_dns = scheme.lower() in ("socks5h", "socks4a")  # the proxy resolves names (no local DNS)
            connector = ProxyConnector.from_url(f"{scheme.lower().rstrip('ha')}://{rest}", rdns=remote_dns,
                                                limit=self._pool_size, ssl=_tls())
            self._socks[proxy] = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})
        return self._socks[proxy], None

    def _proxy(self, url: str) -> str | None:
        """The proxy for this URL's host: telegram.proxy, else the environment's (HTTP(S)_PROXY, ALL_PROXY,
        NO_PROXY), looked up once per host: aiohttp's trust_env looks it up, and reads ~/.netrc, on every
        request, each in a worker thread (bench.floor: 25.3 instead of 10.0 ms of CPU per report)."""
        if self._proxy_cfg:
            return self._proxy_cfg
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname)
        if key not in self._proxies:
            env = getproxies()
            proxy = env.get(parts.scheme) or env.get("all")
            self._proxies[key] = proxy if proxy and not proxy_bypass(parts.hostname or "") else None
        return self._proxies[key]

    async def stream_to(self, url: str, target, max_bytes: int, timeout: float = 60.0) -> int:
        """Download `url` into the file `target` a chunk at a time (a 20 MB photo is never held in
        memory); past `max_bytes` it stops and raises ValueError. Returns the bytes written. Errors
        never quote the URL: it holds the token."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        written = 0
        session, proxy = self._route(url)  # a SOCKS proxy is its session's connector, as for API calls
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=self._connect),
                                   proxy=proxy) as res:
                if res.status != 200:
                    raise NetworkError(f"file download answered HTTP {res.status}")
                with open(target, "wb") as out:
                    async for chunk in res.content.iter_chunked(1 << 16):
                        written += len(chunk)
                        if written > max_bytes:
                            raise ValueError(f"file over {max_bytes} bytes")
                        out.write(chunk)
        except TimeoutError:
            raise TimedOut("file download timed out") from None
        except (aiohttp.ClientError, OSError, ValueError) as err:  # ValueError: python-socks' refusals
            if isinstance(err, ValueError) and str(err).startswith("file over"):
                raise
            raise NetworkError(f"file download failed: {err.__class__.__name__}") from None
        return written


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _describe(err: BaseException) -> str:
    """aiohttp's error without the URL it names (…/bot<TOKEN>/method): class and redacted text."""
    return redact(f"aiohttp.{err.__class__.__name__}: {err}")


def _multipart(data: dict | None, files: dict) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in (data or {}).items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form

"""Helpers for the Open311 tests: a district with the API listening, a hotline channel whose callbacks
and photos are served by a local aiohttp server on loopback, and the spec's field lists as JSON Schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
import xml.etree.ElementTree as ET

import aiohttp
from aiohttp import web

from bot.config import ChannelCfg
from demo.district import District
from emulator.images import jpeg

KEY = "hotline-test-key-0123456789"
CITY_KEY = "city-test-key-9876543210"
STREET = "温泉街道"

# GeoReport v2, field by field (https://wiki.open311.org/GeoReport_v2): names and types.
_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_WHEN = {"type": ["string", "null"], "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"}
SERVICES = {"type": "array", "items": {"type": "object", "required": [
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group"], "properties": {
    "service_code": _TEXT, "service_name": _TEXT, "description": _TEXT, "metadata": {"type": "boolean"},
    "type": {"enum": ["realtime", "batch", "blackbox"]}, "keywords": _TEXT, "group": _TEXT}}}
DEFINITION = {"type": "object", "required": ["service_code", "attributes"], "properties": {
    "service_code": _TEXT, "attributes": {"type": "array"}}}
REQUESTS = {"type": "array", "items": {"type": "object", "required": [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url"], "properties": {
    "service_request_id": _TEXT, "status": {"enum": ["open", "closed"]}, "status_notes": _TEXT,
    "service_name": _TEXT, "service_code": _TEXT, "description": _TEXT, "agency_responsible": _TEXT,
    "service_notice": _TEXT, "requested_datetime": _WHEN, "updated_datetime": _WHEN, "expected_datetime": _WHEN,
    "address": _TEXT, "address_id": _TEXT, "zipcode": _TEXT, "lat": {"type": ["number", "null"]},
    "long": {"type": ["number", "null"]}, "media_url": _TEXT}}}
POSTED = {"type": "array", "minItems": 1, "maxItems": 1, "items": {"type": "object", "required": [
    "service_request_id", "service_notice", "account_id"], "properties": {
    "service_request_id": _TEXT, "service_notice": _TEXT, "account_id": _TEXT_OR_NULL}}}
ERRORS = {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["code", "description"],
                                                    "properties": {"code": {"type": "integer"},
                                                                   "description": _TEXT}}}
XML_ROOTS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
             "errors": ("errors", "error")}


def from_xml(body: bytes, kind: str) -> list[dict]:
    """An XML answer as the list of dicts its JSON twin would be (every value a string or None)."""
    root = ET.fromstring(body)
    top, item = XML_ROOTS[kind]
    assert root.tag == top, root.tag
    out = []
    for node in root:
        assert node.tag == item, node.tag
        out.append({child.tag: child.text for child in node})
    return out


class Receiver:
    """The hotline's side, on loopback: it takes callbacks and serves the photos its cases point to."""

    def __init__(self):
        self.callbacks: list[tuple[dict, bytes]] = []
        self.fail = 0  # answer this many callbacks with 503 first
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/callback", self._callback)
        app.router.add_get("/photo.jpg", self._photo)
        app.router.add_get("/notimage.jpg", self._not_image)
        app.router.add_get("/big.jpg", self._big)
        app.router.add_get("/slow.jpg", self._slow)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    @staticmethod
    async def _photo(_request) -> web.Response:
        return web.Response(body=jpeg(label="hotline", gps=(26.08, 119.29)), content_type="image/jpeg")

    @staticmethod
    async def _big(_request) -> web.Response:  # 1.2 MP: over the tests' pixel limit
        return web.Response(body=jpeg(1200, 1000), content_type="image/jpeg")

    @staticmethod
    async def _slow(_request) -> web.Response:  # longer than the tests' media timeout
        await asyncio.sleep(3)
        return web.Response(body=jpeg(), content_type="image/jpeg")

    @staticmethod
    async def _not_image(_request) -> web.Response:
        return web.Response(body=b"hello", content_type="image/jpeg")

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail:
            self.fail -= 1
            return web.Response(status=503)
        self.callbacks.append((dict(request.headers), body))
        return web.Response(status=204)

    def events(self) -> list[str]:
        return [json.loads(b)["event"] for _, b in self.callbacks]

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@contextlib.asynccontextmanager
async def hotline_district(cfg, tmp_path, clock, monkeypatch, callback: bool = True):
    monkeypatch.setenv("HOTLINE_12345_API_KEY", KEY)
    monkeypatch.setenv("CITY_API_KEY", CITY_KEY)
    receiver = Receiver()
    await receiver.start()
    hotline = cfg.api.channels[0]
    hotline.callback_url = f"{receiver.url}/callback" if callback else None
    hotline.media_hosts = ["127.0.0.1", "localhost"]  # the hotline's own server, on loopback in the tests
    cfg.api.channels.append(ChannelCfg(key="city", name="数字城管", api_key_env="CITY_API_KEY",
                                       services=["garbage"], rate_limit=5))
    cfg.api.listen = "127.0.0.1"  # config.yaml leaves the API off (a fixed port would clash between processes)
    cfg.api.public_url = "http://127.0.0.1"
    cfg.api.media_timeout = 0.5
    cfg.media.max_pixels = 1_000_000
    try:
        async with District(cfg, tmp_path, clock=clock) as d:
            d.receiver = receiver
            d.api = f"http://127.0.0.1:{d.app.bot_data['api'].port}/open311/v2"
            async with aiohttp.ClientSession() as http:
                d.http = http
                yield d
    finally:
        await receiver.stop()


async def post(d, fmt: str = "json", key: str | None = KEY, as_json: bool = False, **fields):
    """POST requests.{fmt}: form-encoded as the spec says, or JSON. Returns (status, body)."""
    if key is not None:
        fields["api_key"] = key
    kw = {"json": fields} if as_json else {"data": {k: str(v) for k, v in fields.items()}}
    async with d.http.post(f"{d.api}/requests.{fmt}", **kw) as resp:
        return resp.status, await resp.read()


async def get(d, path: str, **params):
    async with d.http.get(f"{d.api}/{path}", params=params) as resp:
        return resp.status, await resp.read()

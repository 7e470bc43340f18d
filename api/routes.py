"""The GeoReport v2 endpoints, under /open311/v2/, each in .json and .xml.

GET services, GET services/{code}, POST requests, GET requests, GET requests/{id}, and the documented
extension POST requests/{id}/rating (the hotline's 回访). Requests are answered synchronously with the
case number as service_request_id, so no tokens. A channel reads only the cases it filed.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.errors import ApiError, bad
from api.formats import render
from api.media import fetch_photo
from cases.channels import ChannelError, ChannelRequest
from cases.states import DONE_STATES
from storage.media import original_path, stripped_copy
from storage.models import Case, Event, Photo
from ui.texts import EVENTS

BASE = "/open311/v2"
FMT = r"{fmt:(json|xml)}"
CLOSED = tuple(sorted(DONE_STATES))  # Open311's "closed": the problem was solved
# A hotline operator's words for the satisfaction collected by phone, as well as the codes.
RATING_WORDS = {"满意": "satisfied", "基本满意": "mostly", "不满意": "unsatisfied"}


def step_words(event: Event | None, core) -> str:
    """The last step of a case in words (status_notes)."""
    if event is None:
        return ""
    d, k = event.data or {}, event.kind
    name = core.settings.department_name
    dept = ", ".join(name(x) for x in d.get("departments", [])) or name(d.get("department", ""))
    words = {
        "reported": "已受理 / received",
        "routed": f"已派至{d.get('street') or ''} / sent to the street",
        "to_command": "待指挥中心派发 / with the command centre for routing",
        "placed": "指挥中心已定位 / placed by the command centre",
        "accepted": "街镇已接单 / accepted by the street",
        "called": f"已呼叫{dept} / departments called",
        "answered": f"{dept}已响应 / department answered",
        "checked_in": f"{dept}已到场 / department on site",
        "declined": f"{dept}退回 / department declined",
        "resolved": f"已办结：{d.get('note', '')} / resolved",
        "rated": "已回访 / rated",
        "reopened": "不满意，已重办 / reopened",
        "closed": "已结案 / closed",
        "not_ours": "街镇退回指挥中心 / handed back to the command centre",
        "media_failed": f"照片未能获取：{d.get('reason', '')} / media_url could not be fetched",
    }
    if k in words:
        return words[k]
    zh, en = EVENTS.get(k, (k, k))  # the other steps as the citizen's /case timeline words them
    return f"{zh} / {en}".format(street=d.get("street") or "")


class Routes:
    def __init__(self, core, intake, keys, cfg):
        self.core, self.intake, self.keys, self.cfg = core, intake, keys, cfg
        self.tz = core.settings.tz

    def add_to(self, app: web.Application) -> None:
        app.router.add_get(f"{BASE}/services.{FMT}", self.services)
        app.router.add_get(f"{BASE}/services/{{code:[^/.]+}}.{FMT}", self.service)
        app.router.add_post(f"{BASE}/requests.{FMT}", self.post_request)
        app.router.add_get(f"{BASE}/requests.{FMT}", self.get_requests)
        app.router.add_get(f"{BASE}/requests/{{id:[^/.]+}}.{FMT}", self.get_request)
        app.router.add_post(f"{BASE}/requests/{{id:[^/.]+}}/rating.{FMT}", self.post_rating)
        app.router.add_get(f"{BASE}/media/{{sha:[0-9a-f]{{64}}}}.jpg", self.media)

    # ---- services --------------------------------------------------------------------------------
    def _service(self, cat) -> dict:
        limits = "; ".join(f"{k} {v}" for k, v in cat.limits.items())
        return {"service_code": cat.key, "service_name": cat.zh, "description": f"{cat.en}. 时限 limits: {limits}",
                "metadata": False, "type": "realtime", "keywords": cat.en, "group": ""}

    async def services(self, request: web.Request) -> web.Response:
        channel = self.keys.channel(request.query["api_key"]) if "api_key" in request.query else None
        cats = [c for c in self.core.settings.categories.values() if channel is None or channel.allows(c.key)]
        return render(request.match_info["fmt"], "services", [self._service(c) for c in cats])

    async def service(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        if code not in self.core.settings.categories:
            raise ApiError(404, f"service_code: unknown service code {code!r}")
        return render(request.match_info["fmt"], "service_definition", {"service_code": code, "attributes": []})

    # ---- requests --------------------------------------------------------------------------------
    async def _form(self, request: web.Request) -> dict:
        cap = self.cfg.api.max_body
        if (request.content_length or 0) > cap:
            raise bad("body", f"larger than {cap} bytes")
        raw = await request.content.read(cap + 1)
        if len(raw) > cap:
            raise bad("body", f"larger than {cap} bytes")
        if request.content_type == "application/json":
            try:
                data = json.loads(raw or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise bad("body", f"invalid JSON ({exc})") from None
            if not isinstance(data, dict):
                raise bad("body", "a JSON object is expected")
            return {k: v for k, v in data.items() if v is not None}
        try:
            pairs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad("body", f"invalid form ({exc})") from None
        return {k: v[0] for k, v in pairs.items()}

    @staticmethod
    def _number(form: dict, name: str) -> float | None:
        value = form.get(name)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad(name, f"{value!r} is not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise bad(name, f"{value!r} is not a number")
        return number

    @staticmethod
    def _text(form: dict, name: str, limit: int) -> str:
        value = form.get(name, "")
        if not isinstance(value, str | int | float):
            raise bad(name, "a string is expected")
        value = str(value).strip()
        if len(value) > limit:
            raise bad(name, f"longer than {limit} characters")
        return value

    async def post_request(self, request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        form = await self._form(request)
        channel = self.keys.channel(form.get("api_key") or request.query.get("api_key"))
        code = self._text(form, "service_code", 64)
        if code and code in self.core.settings.categories and not channel.allows(code):
            raise ApiError(403, f"service_code: {code!r} is not open to {channel.key}")
        text = {n: self._text(form, n, 4000 if n == "description" else 256) for n in (
            "description", "address_string", "email", "phone", "first_name", "last_name", "external_id",
            "media_url")}
        req = ChannelRequest(channel.key, channel.name, code, text["description"], self._number(form, "lat"),
                             self._number(form, "long"), text["address_string"] or None,
                             text["external_id"] or None,
                             {k: text[k] for k in ("email", "phone", "first_name", "last_name") if text[k]})
        try:
            self.intake.validate(req)
        except ChannelError as exc:
            raise bad(exc.field, exc.description) from None
        # A repeated ticket is found again in the filing transaction; looked up first only to spare a fetch.
        found = await self.intake.existing(channel.key, req.external_id) if text["media_url"] else None
        if found is None and text["media_url"]:  # fetched once, before the case's one transaction
            media = self.cfg.media
            req.photo, req.media_problem = await fetch_photo(
                text["media_url"], media.dir, media.max_bytes, media.max_pixels, self.cfg.api.media_timeout,
                channel.media_hosts)
        try:
            filed = await self.intake.file(req) if found is None else None
        except ChannelError as exc:
            raise bad(exc.field, exc.description) from None
        case = filed.case if filed else found
        notice = "" if filed and filed.created else f"external_id {req.external_id} was already filed as {case.number}"
        if req.media_problem:
            notice = f"media_url: {req.media_problem}; the request was filed without the photo"
        body = [{"service_request_id": case.number, "service_notice": notice, "account_id": None}]
        return render(fmt, "requests", body, status=201 if filed and filed.created else 200)

    async def _cases(self, *where, limit: int = 1000, offset: int = 0) -> list[Case]:
        async with self.core.sessions() as session:
            return list(await session.scalars(select(Case).where(*where).options(
                selectinload(Case.photos), selectinload(Case.deadlines)).order_by(Case.id.desc())
                .limit(limit).offset(offset)))

    async def _last_events(self, ids: list[int]) -> dict[int, Event]:
        if not ids:
            return {}
        async with self.core.sessions() as session:
            events = await session.scalars(select(Event).where(Event.case_id.in_(ids)).order_by(Event.id))
            return {e.case_id: e for e in events}

    def _when(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.tz).isoformat(timespec="seconds") if moment else None

    def _media_url(self, case: Case) -> str:
        after = [p for p in case.photos if p.stage == "after"]
        if case.state not in CLOSED or not after:
            return ""
        base = (self.cfg.api.public_url or "").rstrip("/")
        return f"{base}{BASE}/media/{after[-1].sha256}.jpg"

    def as_request(self, case: Case, last: Event | None) -> dict:
        cat = self.core.settings.categories.get(case.category)
        resolve = [d for d in case.deadlines if d.kind == "resolve" and d.status in ("open", "met", "lapsed")]
        pointed = case.place_source != "address"
        return {
            "service_request_id": case.number, "status": "closed" if case.state in CLOSED else "open",
            "status_notes": step_words(last, self.core), "service_name": cat.zh if cat else case.category,
            "service_code": case.category, "description": case.description,
            "agency_responsible": case.grid or case.street or "区指挥中心", "service_notice": "",
            "requested_datetime": self._when(case.created_at), "updated_datetime": self._when(case.updated_at),
            "expected_datetime": self._when(resolve[-1].due_at) if resolve else None,
            "address": case.place_address or case.place_title or "", "address_id": "", "zipcode": "",
            "lat": case.lat if pointed else None, "long": case.lon if pointed else None,
            "media_url": self._media_url(case), "external_id": case.external_id or ""}

    async def _render_cases(self, fmt: str, cases: list[Case]) -> web.Response:
        last = await self._last_events([c.id for c in cases])
        return render(fmt, "requests", [self.as_request(c, last.get(c.id)) for c in cases])

    def _date(self, name: str, value: str) -> datetime:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad(name, f"{value!r} is not an ISO 8601 date") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)

    async def get_requests(self, request: web.Request) -> web.Response:
        q = request.query
        channel = self.keys.channel(q.get("api_key"))
        where = [Case.channel == channel.key]
        if q.get("service_request_id"):  # the spec: the list wins over every other filter
            numbers = [n.strip().upper() for n in q["service_request_id"].split(",") if n.strip()][:1000]
            return await self._render_cases(request.match_info["fmt"],
                                            await self._cases(*where, Case.number.in_(numbers)))
        if q.get("service_code"):
            where.append(Case.category.in_(q["service_code"].split(",")))
        end = self._date("end_date", q["end_date"]) if q.get("end_date") else None
        start = self._date("start_date", q["start_date"]) if q.get("start_date") else None
        if start is None and end is None:  # the spec's default window: the last 90 days
            start = self.core.clock.now() - timedelta(days=90)
        if start:
            where.append(Case.created_at >= start)
        if end:
            where.append(Case.created_at <= end)
        if q.get("status"):
            wanted = set(q["status"].split(","))
            if not wanted <= {"open", "closed"}:
                raise bad("status", "open, closed or both")
            if wanted == {"open"}:
                where.append(Case.state.not_in(CLOSED))
            elif wanted == {"closed"}:
                where.append(Case.state.in_(CLOSED))
        try:
            page, size = int(q.get("page", 1)), int(q.get("page_size", 200))
        except ValueError:
            raise bad("page", "page and page_size are whole numbers") from None
        if page < 1 or not 1 <= size <= 1000:
            raise bad("page", "page ≥ 1, page_size 1 to 1000")
        cases = await self._cases(*where, limit=size, offset=(page - 1) * size)
        return await self._render_cases(request.match_info["fmt"], cases)

    async def _own_case(self, request: web.Request, channel) -> Case:
        cases = await self._cases(Case.number == request.match_info["id"].upper(), Case.channel == channel.key)
        if not cases:
            raise ApiError(404, f"service_request_id: no request {request.match_info['id']!r}")
        return cases[0]

    async def get_request(self, request: web.Request) -> web.Response:
        channel = self.keys.channel(request.query.get("api_key"))
        return await self._render_cases(request.match_info["fmt"], [await self._own_case(request, channel)])

    async def post_rating(self, request: web.Request) -> web.Response:
        """Extension: the satisfaction the hotline collected by phone (回访), as a citizen's tap."""
        form = await self._form(request)
        channel = self.keys.channel(form.get("api_key") or request.query.get("api_key"))
        case = await self._own_case(request, channel)
        rating = self._text(form, "rating", 16)
        rating = RATING_WORDS.get(rating, rating)
        if not rating:
            raise bad("rating", "missing (satisfied, mostly or unsatisfied)")
        try:
            outcome = await self.intake.rate(case, rating)
        except ChannelError as exc:
            raise bad(exc.field, exc.description) from None
        if not outcome.ok:
            raise bad("rating", f"the request is not waiting for a rating (it is {case.state})")
        comment = self._text(form, "comment", 500)
        if comment:
            await self.core.disposal.comment_rating(case.id, case.reporter_id, comment)
        return await self._render_cases(request.match_info["fmt"], [await self._own_case(request, channel)])

    async def media(self, request: web.Request) -> web.Response:
        """An after-photo of a resolved case, re-encoded without EXIF; nothing else is served."""
        sha = request.match_info["sha"]
        async with self.core.sessions() as session:
            photo = await session.scalar(select(Photo).where(Photo.sha256 == sha, Photo.stage == "after").limit(1))
        if photo is None:
            raise ApiError(404, "media: not found")
        path = await asyncio.to_thread(_clean_copy, self.cfg.media.dir, sha)
        if path is None:  # the row is there, the file is not (media kept elsewhere)
            raise ApiError(404, "media: not found")
        return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


def _clean_copy(media_dir, sha: str):
    try:
        return stripped_copy(original_path(media_dir, sha))
    except StopIteration:
        return None

"""Cases filed by other systems (the 12345 hotline, 数字城管) through an intake channel: no Telegram here.

A channel's case has no citizen chat: its reporter is `CHANNEL_CHAT`, so whatever the core tells the
reporter (accepted, called, on site, resolved, closed) becomes a callback row for the channel.
A case is written whole in one transaction (case, photo, deadlines, trace, outbox) or not at all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.core import Outcome
from cases.states import Action, CaseState, allowed, may, target
from storage.models import Case, DayCounter, Photo
from storage.outbox import CHANNEL_CHAT, enqueue

RATINGS = ("satisfied", "mostly", "unsatisfied")
REARM_EVERY = 0.2  # seconds
WAKE_EVERY = 0.05  # seconds
BATCH = 64  # cases filed in one transaction at most


class ChannelError(Exception):
    """Input refused: `field` names what was wrong, `description` says why (shown to the channel)."""

    def __init__(self, field_: str, description: str):
        super().__init__(f"{field_}: {description}")
        self.field, self.description = field_, description


@dataclass
class ChannelRequest:
    channel: str  # the channel's config key
    channel_name: str  # 12345热线
    service_code: str
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    external_id: str | None = None
    contact: dict = field(default_factory=dict)  # email, phone, names: kept in the trace, never on a card
    photo: dict | None = None  # a stored image: sha256, width, height
    media_problem: str | None = None  # why the media_url could not be used (the case is kept)


@dataclass
class Filed:
    case: Case
    created: bool  # False: the channel's ticket was already a case (a repeated POST)


class ChannelIntake:
    """Files, places and rates channel cases. `core` lends what every intake shares (case numbers,
    deadlines, the trace); db, clock, settings and the street index are given explicitly."""

    def __init__(self, core, db=None, clock=None, settings=None, streets=None):
        self.core = core
        self.db = db or core.db
        self.clock = clock or core.clock
        self.settings = settings or core.settings
        self.streets = streets or core.streets
        self.directory = core.directory  # which group serves which street, as every process sees it
        self._rearm: asyncio.TimerHandle | None = None
        self._wake: asyncio.TimerHandle | None = None
        self._waiting: list[tuple[ChannelRequest, asyncio.Future]] = []
        self._filer: asyncio.Task | None = None

    def _written(self) -> None:
        """Wake the delivery workers at most every WAKE_EVERY seconds and let the scheduler re-arm at
        most every REARM_EVERY: a new case's earliest step is its first warning, minutes away, and a
        delivery pass (or a re-arm) after every one of hundreds of commits a second cost more than
        the commits (the scheduler's 30 s tick stays)."""
        loop = asyncio.get_running_loop()
        if self._wake is None:
            self._wake = loop.call_later(WAKE_EVERY, self._wake_now)
        if self._rearm is None:
            self._rearm = loop.call_later(REARM_EVERY, self._rearm_now)

    def _wake_now(self) -> None:
        self._wake = None
        self.core._on_outbox()

    def _rearm_now(self) -> None:
        self._rearm = None
        self.core.on_deadlines()

    def check_point(self, lat: float, lon: float) -> float:
        """Refuse a point outside the district (with how far); returns the distance to the nearest street."""
        if not (-90 <= lat <= 90):
            raise ChannelError("lat", f"{lat} is not a latitude (-90 to 90)")
        if not (-180 <= lon <= 180):
            raise ChannelError("long", f"{lon} is not a longitude (-180 to 180)")
        match = self.streets.locate(lat, lon)
        if match.street is None and match.distance_m > self.settings.service_radius_m:
            raise ChannelError("lat/long", f"outside the district: {match.distance_m / 1000:.1f} km from the "
                                           f"nearest street (at most {self.settings.service_radius_m / 1000:g} km)")
        return match.distance_m

    def validate(self, req: ChannelRequest) -> None:
        if not req.service_code:
            raise ChannelError("service_code", "missing")
        if req.service_code not in self.settings.categories:
            raise ChannelError("service_code", f"unknown service code {req.service_code!r}")
        if req.lat is None and req.lon is None:
            if not (req.address or "").strip():
                raise ChannelError("lat/long", "give lat and long, or address_string")
        elif req.lat is None or req.lon is None:
            raise ChannelError("lat" if req.lat is None else "long", "missing (lat and long come together)")
        else:
            self.check_point(req.lat, req.lon)
        if len(req.description) > 4000:
            raise ChannelError("description", "longer than 4000 characters")
        if req.external_id is not None and not (0 < len(req.external_id) <= 64):
            raise ChannelError("external_id", "1 to 64 characters")

    async def existing(self, channel: str, external_id: str | None) -> Case | None:
        if not external_id:
            return None
        async with self.core.sessions() as session:
            return await session.scalar(select(Case).where(Case.channel == channel,
                                                           Case.external_id == external_id))

    async def file(self, req: ChannelRequest) -> Filed:
        """One whole case, or nothing; a ticket already filed returns its case.

        Requests that arrive while a transaction is being written wait and are filed together in the
        next one (group commit): one commit for many cases is what lets SQLite take hundreds a second.
        Each case is still whole; if the shared transaction fails, each request is filed alone."""
        self.validate(req)
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((req, done))
        if self._filer is None or self._filer.done():
            self._filer = asyncio.create_task(self._file_waiting())
        return await done

    async def _file_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            now = self.clock.now()
            try:
                results = await self.db.write(self._file_many, [req for req, _ in batch], now)
            except Exception:  # one bad request must not sink the others: each alone, with its own error
                results = [await self._file_alone(req, now) for req, _ in batch]
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)
            if any(isinstance(r, Filed) and r.created for r in results):
                self._written()

    async def _file_alone(self, req: ChannelRequest, now: datetime) -> Filed | Exception:
        try:
            return await self.db.write(self._file, req, now)
        except IntegrityError as exc:  # the same ticket filed at the same moment by another process
            case = await self.existing(req.channel, req.external_id)
            return Filed(case, False) if case is not None else exc
        except Exception as exc:
            return exc

    def _file(self, session: Session, req: ChannelRequest, now: datetime) -> Filed:
        return self._file_many(session, [req], now)[0]

    def _file_many(self, session: Session, reqs: list[ChannelRequest], now: datetime) -> list[Filed]:
        """Cases for `reqs` in the session's transaction. Written in bulk (one flush for the cases, one
        for the rest, one counter update for their numbers): per-case flushes cost more than the SQL."""
        core, s = self.core, self.settings
        tickets = {(r.channel, r.external_id) for r in reqs if r.external_id}
        known: dict[tuple, Case] = {}
        if tickets:
            for case in session.scalars(select(Case).where(
                    Case.channel.in_({c for c, _ in tickets}), Case.external_id.in_({e for _, e in tickets}))):
                known[(case.channel, case.external_id)] = case
        results: list[Filed | None] = []
        new: list[tuple[int, ChannelRequest, object, Case]] = []
        for i, req in enumerate(reqs):
            ticket = (req.channel, req.external_id)
            if req.external_id and ticket in known:  # filed before, or earlier in this batch
                results.append(Filed(known[ticket], False))
                continue
            pointed = req.lat is not None
            match = self.streets.locate(req.lat, req.lon) if pointed else None
            street = match.street if match else None
            street_chat = core.directory.street_chat(street)
            grid = core.intake._grid_for(req.service_code, req.lat, req.lon) if street_chat else None
            case = Case(
                category=req.service_code, description=req.description.strip(),
                lat=req.lat if pointed else 0.0, lon=req.lon if pointed else 0.0, place_title=None,
                place_address=(req.address or "").strip()[:512] or None,
                place_source="api" if pointed else "address", street=street if street_chat else None, grid=grid,
                routed_by=("polygon" if match.inside else "tolerance") if street_chat else "pending",
                state=CaseState.ROUTED if street_chat else CaseState.UNROUTED,
                reporter_id=CHANNEL_CHAT, reporter_lang=s.group_lang,
                reporter_tag=req.channel_name[:16], channel=req.channel, external_id=req.external_id,
                created_at=now, updated_at=now)
            if req.external_id:
                known[ticket] = case
            new.append((i, req, match, case))
            results.append(Filed(case, True))
        if not new:
            return results
        for (_, _, _, case), number in zip(new, self._numbers(session, now, len(new)), strict=True):
            case.number = number
        session.add_all([case for *_, case in new])
        session.flush()  # the cases' ids, in one INSERT
        for _, req, match, case in new:
            self._dependants(session, req, match, case, now)
        return results

    def _dependants(self, session: Session, req: ChannelRequest, match, case: Case, now: datetime) -> None:
        """A new case's photo, deadlines, trace and messages (its card, and the channel's `received`)."""
        core, s = self.core, self.settings
        if req.photo:
            session.add(Photo(case_id=case.id, position=0, stage="before", file_id="", file_unique_id="",
                              sha256=req.photo["sha256"], width=req.photo["width"], height=req.photo["height"],
                              needs_strip=True))  # sent to staff as a re-encoded copy without EXIF
        for kind, due in core.case_deadlines(s.categories[case.category], now).items():
            core.open_deadline(session, case.id, kind, now, due)
        core.trace(session, case.id, now, "reported", "channel", category=case.category, channel=req.channel,
                   channel_name=req.channel_name, external_id=req.external_id, photos=1 if req.photo else 0,
                   source=case.place_source, **({"contact": req.contact} if req.contact else {}))
        if req.media_problem:
            core.trace(session, case.id, now, "media_failed", "system", reason=req.media_problem)
        if case.state == CaseState.ROUTED:
            core.trace(session, case.id, now, "routed", "system", street=case.street, how=case.routed_by,
                       distance_m=round(match.distance_m, 1), **({"grid": case.grid} if case.grid else {}))
            enqueue(session, now, core.directory.owner_chat(case), "street_card", case.id)
        else:
            why = "address only" if match is None else "no street group" if match.street else "outside every street"
            core.trace(session, case.id, now, "to_command", "system", reason=why,
                       **({"nearest": match.street, "distance_m": round(match.distance_m, 1)} if match else {}))
            if s.command_chat:
                enqueue(session, now, s.command_chat, "routing_card", case.id)
        enqueue(session, now, CHANNEL_CHAT, "receipt", case.id)

    def _numbers(self, session: Session, now: datetime, n: int) -> list[str]:
        """n case numbers at once from the day's counter (as cases/intake.py's, incremented in SQL)."""
        day = now.astimezone(self.settings.tz).strftime("%Y%m%d")
        if session.get(DayCounter, day) is None:
            session.add(DayCounter(day=day, last=0))
            session.flush()
        session.execute(update(DayCounter).where(DayCounter.day == day).values(last=DayCounter.last + n))
        last = session.scalar(select(DayCounter.last).where(DayCounter.day == day))
        return [f"{self.settings.case_prefix}-{day}-{k:04d}" for k in range(last - n + 1, last + 1)]

    async def place(self, case_id: int, lat: float, lon: float, user_id: int, chat_id: int) -> Outcome:
        """The command centre gives an address-only case its point (a location in reply to the routing
        card): the case takes the point and goes to the street that owns it, as any case."""
        if chat_id != self.settings.command_chat:
            return Outcome(False, "not_your_group")
        try:
            self.check_point(lat, lon)
        except ChannelError:
            return Outcome(False, "bad_place")
        now = self.clock.now()
        match = self.streets.locate(lat, lon)
        street_chat = self.directory.street_chats.get(match.street) if match.street else None

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if not may(Action.ROUTE, case.state):
                return Outcome(False, "already_routed", case)
            if case.place_source != "address":  # a case with a point keeps it: only an address is placed
                return Outcome(False, "has_point", case)
            values = {"lat": lat, "lon": lon, "place_source": "command", "updated_at": now}
            if street_chat:
                values.update(state=target(Action.ROUTE), street=match.street, routed_by="manual")
            won = session.execute(update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.ROUTE)))
                                  .values(**values)).rowcount
            if not won:
                return Outcome(False, "already_routed", case)
            self.core.trace(session, case_id, now, "placed", "command", user_id, chat_id, lat=lat, lon=lon,
                            street=match.street if street_chat else None)
            if street_chat:
                self.core.trace(session, case_id, now, "routed", "command", user_id, chat_id, street=match.street,
                                how="manual")
                enqueue(session, now, street_chat, "street_card", case_id)
            enqueue(session, now, chat_id, "refresh_card", case_id, card="routing")
            session.refresh(case)
            return Outcome(True, "placed" if street_chat else "placed_unowned", case)
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.core.outbox_written()
        return outcome

    async def rate(self, case: Case, rating: str) -> Outcome:
        """The hotline's 回访: the satisfaction its operator collected by phone, with the effect of a
        citizen's tap (不满意 reopens the case)."""
        if rating not in RATINGS:
            raise ChannelError("rating", f"one of {', '.join(RATINGS)}")
        return await self.core.disposal.rate(case.id, CHANNEL_CHAT, rating)

"""Cases filed by other systems (the 12345 hotline, 数字城管) through an intake channel: no Telegram here.

A channel's case has no citizen chat: its reporter is `CHANNEL_CHAT`, so whatever the core tells the
reporter (accepted, called, on site, resolved, closed) becomes a callback row for the channel.
A case is written whole in one transaction (case, photo, deadlines, trace, outbox) or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.lifecycle import Outcome
from storage.models import Case, Photo
from storage.outbox import CHANNEL_CHAT, enqueue

RATINGS = ("satisfied", "mostly", "unsatisfied")


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
        """One whole case, or nothing; a ticket already filed returns its case."""
        self.validate(req)
        now = self.clock.now()
        try:
            filed = await self.db.write(self._file, req, now)
        except IntegrityError:  # the same ticket filed at the same moment by another request
            case = await self.existing(req.channel, req.external_id)
            if case is None:
                raise
            return Filed(case, False)
        if filed.created:
            self.core.outbox_written()
        return filed

    def _file(self, session: Session, req: ChannelRequest, now: datetime) -> Filed:
        if req.external_id:
            found = session.scalar(select(Case).where(Case.channel == req.channel,
                                                      Case.external_id == req.external_id))
            if found is not None:
                return Filed(found, False)
        core, s = self.core, self.settings
        pointed = req.lat is not None
        match = self.streets.locate(req.lat, req.lon) if pointed else None
        street = match.street if match else None
        street_chat = s.street_chats.get(street) if street else None
        grid = core._grid_for(req.service_code, req.lat, req.lon) if street_chat else None
        case = Case(
            number=core._next_number(session, now), category=req.service_code,
            description=req.description.strip(), lat=req.lat if pointed else 0.0, lon=req.lon if pointed else 0.0,
            place_title=None, place_address=(req.address or "").strip()[:512] or None,
            place_source="api" if pointed else "address", street=street if street_chat else None, grid=grid,
            routed_by=("polygon" if match.inside else "tolerance") if street_chat else "pending",
            state="routed" if street_chat else "unrouted", reporter_id=CHANNEL_CHAT, reporter_lang=s.group_lang,
            reporter_tag=req.channel_name[:16], channel=req.channel, external_id=req.external_id,
            created_at=now, updated_at=now)
        session.add(case)
        session.flush()
        if req.photo:
            session.add(Photo(case_id=case.id, position=0, stage="before", file_id="", file_unique_id="",
                              sha256=req.photo["sha256"], width=req.photo["width"], height=req.photo["height"],
                              needs_strip=True))  # sent to staff as a re-encoded copy without EXIF
        for kind, due in core._deadlines(s.categories[case.category], now).items():
            core.open_deadline(session, case.id, kind, now, due)
        core.trace(session, case.id, now, "reported", "channel", category=case.category, channel=req.channel,
                   channel_name=req.channel_name, external_id=req.external_id, photos=1 if req.photo else 0,
                   source=case.place_source, **({"contact": req.contact} if req.contact else {}))
        if req.media_problem:
            core.trace(session, case.id, now, "media_failed", "system", reason=req.media_problem)
        if street_chat:
            core.trace(session, case.id, now, "routed", "system", street=street, how=case.routed_by,
                       distance_m=round(match.distance_m, 1), **({"grid": grid} if grid else {}))
            enqueue(session, now, s.owner_chat(case), "street_card", case.id)
        else:
            why = "address only" if not pointed else "no street group" if street else "outside every street"
            core.trace(session, case.id, now, "to_command", "system", reason=why,
                       **({"nearest": match.street, "distance_m": round(match.distance_m, 1)} if match else {}))
            if s.command_chat:
                enqueue(session, now, s.command_chat, "routing_card", case.id)
        enqueue(session, now, CHANNEL_CHAT, "receipt", case.id)
        return Filed(case, True)

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
        street_chat = self.settings.street_chats.get(match.street) if match.street else None

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if case.state != "unrouted":
                return Outcome(False, "already_routed", case)
            values = {"lat": lat, "lon": lon, "place_source": "command", "updated_at": now}
            if street_chat:
                values.update(state="routed", street=match.street, routed_by="manual")
            won = session.execute(update(Case).where(Case.id == case_id, Case.state == "unrouted")
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
        return await self.core.rate(case.id, CHANNEL_CHAT, rating)

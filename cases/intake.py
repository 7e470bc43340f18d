"""A citizen's report from first photo to a submitted case (drafts live in the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import bindguard
from cases.core import Service
from cases.states import CaseState
from storage import prepared
from storage.db import insert_ignore
from storage.models import Case, DayCounter, Draft
from storage.outbox import enqueue

# What the draft needs next, in order; the handler turns a step into a prompt.
PHOTO, EXIF, PLACE, CATEGORY, DESCRIPTION, CONFIRM = "photo", "exif", "place", "category", "description", "confirm"


class IntakeError(Exception):
    """A refusal the citizen must be told about; the draft is kept as it was."""

    def __init__(self, key: str, **args):
        super().__init__(key)
        self.key = key
        self.args_ = args


@dataclass
class DraftView:
    step: str
    data: dict
    lang: str

    @property
    def photos(self) -> list[dict]:
        return self.data.get("photos", [])


def next_step(data: dict) -> str:
    if not data.get("photos"):
        return PHOTO
    if data.get("exif_place"):
        return EXIF
    if not data.get("place"):
        return PLACE
    if not data.get("category"):
        return CATEGORY
    if data.get("description") is None:
        return CONFIRM if data.get("fast") else DESCRIPTION
    return CONFIRM


class Intake(Service):
    """A citizen's report: the draft (photos, place, category, words), then the case it becomes."""

    def __init__(self, base, bindings):
        super().__init__(base)
        self.bindings = bindings  # whose grid a report is credited to

    async def _change(self, user_id: int, chat_id: int, lang: str, change, create: bool = False) -> DraftView:
        """Apply `change` to the draft's data. Only a photo or a place may start a new draft: a
        button tapped after the draft is gone (cancelled, expired, submitted) is stale."""
        now = self.now()

        def tx(session: Session) -> DraftView:
            draft = session.execute(prepared.DRAFT, {"user": user_id}).first()
            if draft is None:
                if not create:
                    raise IntakeError("stale")
                # A grid worker's draft takes the fast path: no note or confirm step (see FAST_STEPS).
                fast = user_id in self.directory.grid_workers and not bindguard.revoked(session, user_id)
                data = {"fast": True} if fast else {}
            elif draft.chat_id != chat_id and not create:  # a button in another chat (a grid group) is not
                raise IntakeError("stale")                 # this draft's; a photo or place moves it there
            else:
                data = dict(draft.data)
            if data.get("fast") and bindguard.revoked(session, user_id):  # revoked mid-draft (issue 11)
                del data["fast"]
            change(data)
            if draft is None:
                session.execute(prepared.ADD_DRAFT, {"user_id": user_id, "chat_id": chat_id, "lang": lang,
                                                     "data": data, "updated_at": now})
            else:
                session.execute(prepared.SET_DRAFT, {"user": user_id, "chat": chat_id, "lang": lang, "data": data,
                                                     "at": now})
            return DraftView(next_step(data), data, lang)
        return await self.db.write(tx)

    async def get_draft(self, user_id: int) -> DraftView | None:
        async with self.sessions() as session:
            draft = (await session.execute(prepared.DRAFT, {"user": user_id})).first()
            return DraftView(next_step(draft.data), draft.data, draft.lang) if draft else None

    async def add_photo(self, user_id: int, chat_id: int, lang: str, photo: dict,
                        exif_place: tuple[float, float] | None = None, caption: str | None = None) -> DraftView:
        def change(data: dict) -> None:
            if caption and data.get("fast") and not data.get("description"):
                data["description"] = caption.strip()[:500]  # a grid worker's caption is the note
            photos = list(data.get("photos", []))
            if any(p["sha256"] == photo["sha256"] for p in photos):
                return  # the same picture twice adds nothing
            if len(photos) >= self.settings.max_photos:
                raise IntakeError("too_many_photos", n=self.settings.max_photos)
            photos.append(photo)
            data["photos"] = photos
            if exif_place and not data.get("place"):
                self._check_in_service_area(*exif_place)
                data["exif_place"] = {"lat": exif_place[0], "lon": exif_place[1]}
        return await self._change(user_id, chat_id, lang, change, create=True)

    async def answer_exif(self, user_id: int, chat_id: int, lang: str, use: bool) -> DraftView:
        def change(data: dict) -> None:
            found = data.pop("exif_place", None)
            if use and found:
                data["place"] = {**found, "source": "exif", "title": None, "address": None}
        return await self._change(user_id, chat_id, lang, change)

    def _check_in_service_area(self, lat: float, lon: float) -> None:
        match = self.streets.locate(lat, lon)
        if match.street is None and match.distance_m > self.settings.service_radius_m:
            raise IntakeError("far_away", km=round(match.distance_m / 1000))

    async def set_place(self, user_id: int, chat_id: int, lang: str, lat: float, lon: float,
                        source: str, title: str | None = None, address: str | None = None) -> DraftView:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise IntakeError("bad_place")
        self._check_in_service_area(lat, lon)

        def change(data: dict) -> None:
            data.pop("exif_place", None)
            data["place"] = {"lat": lat, "lon": lon, "source": source, "title": title, "address": address}
        return await self._change(user_id, chat_id, lang, change, create=True)

    async def set_category(self, user_id: int, chat_id: int, lang: str, key: str) -> DraftView:
        if key not in self.settings.categories:
            raise IntakeError("stale")

        def change(data: dict) -> None:
            data["category"] = key
        return await self._change(user_id, chat_id, lang, change)

    async def set_description(self, user_id: int, chat_id: int, lang: str, text: str | None) -> DraftView:
        text = (text or "").strip()
        if len(text) > 500:
            raise IntakeError("too_long", n=500)

        def change(data: dict) -> None:
            data["description"] = text
        return await self._change(user_id, chat_id, lang, change)

    async def edit_draft(self, user_id: int, chat_id: int, lang: str, part: str) -> DraftView:
        cleared = {"photos": ["photos"], "place": ["place", "exif_place"],
                   "details": ["category", "description"]}[part]
        dropped: list[str] = []

        def change(data: dict) -> None:
            dropped[:] = [p["sha256"] for p in data.get("photos", [])] if part == "photos" else []
            for key in cleared:
                data.pop(key, None)
        view = await self._change(user_id, chat_id, lang, change)
        await self.photos_dropped(dropped)
        return view

    async def cancel_draft(self, user_id: int, chat_id: int | None = None) -> bool:
        def tx(session: Session) -> list[str] | None:
            draft = session.get(Draft, user_id)
            if draft is None or (chat_id is not None and draft.chat_id != chat_id):
                return None
            session.delete(draft)
            return [p["sha256"] for p in draft.data.get("photos", [])]
        dropped = await self.db.write(tx)
        await self.photos_dropped(dropped or [])
        return dropped is not None

    async def expire_drafts(self) -> int:
        """Drop drafts untouched for `draft_ttl`, telling each citizen (via the outbox)."""
        now = self.now()
        minutes = int(self.settings.draft_ttl.total_seconds() // 60)

        def tx(session: Session) -> tuple[int, list[str]]:
            stale = session.scalars(select(Draft).where(Draft.updated_at < now - self.settings.draft_ttl)).all()
            for draft in stale:
                enqueue(session, now, draft.chat_id, "notice", key="draft_expired", lang=draft.lang,
                        args={"minutes": minutes})
                session.delete(draft)
            return len(stale), [p["sha256"] for d in stale for p in d.data.get("photos", [])]
        count, dropped = await self.db.write(tx)
        if count:
            self.outbox_written()
            await self.photos_dropped(dropped)
        return count

    async def submit(self, user_id: int, chat_id: int, lang: str) -> Case:
        """Turn the confirmed draft into a case: route it, open its deadlines, queue its messages."""
        now = self.now()
        case = await self.db.write(self._submit, user_id, chat_id, lang, now)
        self.outbox_written()
        return case

    def _submit(self, session: Session, user_id: int, chat_id: int, lang: str, now: datetime) -> Case:
        draft = session.execute(prepared.DRAFT, {"user": user_id}).first()
        if draft is None or next_step(draft.data) != CONFIRM:
            raise IntakeError("stale")
        recent = session.execute(prepared.RECENT_CASES, {"user": user_id, "since": now - timedelta(hours=1)}).scalar()
        if recent >= self.settings.max_cases_per_hour:
            raise IntakeError("flood", n=self.settings.max_cases_per_hour)
        data, place = draft.data, draft.data["place"]
        match = self.streets.locate(place["lat"], place["lon"])
        street = match.street
        street_chat = self.directory.street_chats.get(street) if street else None
        grid = self._grid_for(data["category"], place["lat"], place["lon"]) if street_chat else None
        row = dict(
            number=self._next_number(session, now), category=data["category"],
            description=data.get("description") or "", lat=place["lat"], lon=place["lon"],
            place_title=place.get("title"), place_address=place.get("address"),
            place_source=place["source"], street=street if street_chat else None, grid=grid,
            reported_by_grid=self.bindings.active_grid(session, user_id),
            routed_by=("polygon" if match.inside else "tolerance") if street_chat else "pending",
            state=CaseState.ROUTED if street_chat else CaseState.UNROUTED,
            reporter_id=user_id, reporter_lang=lang, reporter_tag=self.reporter_tag(user_id),
            created_at=now, updated_at=now, reopen_count=0, difficult=False)
        # A Core INSERT (storage/prepared.py); the caller gets the same values as a detached Case.
        case = Case(id=session.execute(prepared.ADD_CASE, row).inserted_primary_key[0], **row)
        session.execute(prepared.ADD_PHOTO, [
            {"case_id": case.id, "position": i, "stage": "before", "file_id": p["file_id"],
             "file_unique_id": p["file_unique_id"], "sha256": p["sha256"], "width": p["width"],
             "height": p["height"], "needs_strip": p.get("needs_strip", False)} for i, p in enumerate(data["photos"])])
        for kind, due in self.case_deadlines(self.settings.categories[case.category], now).items():
            self.open_deadline(session, case.id, kind, now, due)
        self.trace(session, case.id, now, "reported", "grid_worker" if case.reported_by_grid else "citizen",
                   user_id, chat_id, category=case.category, photos=len(data["photos"]), source=place["source"],
                   **({"grid": case.reported_by_grid} if case.reported_by_grid else {}))
        if street_chat:
            self.trace(session, case.id, now, "routed", "system", street=street,
                       how=case.routed_by, distance_m=round(match.distance_m, 1), **({"grid": grid} if grid else {}))
            enqueue(session, now, self.directory.owner_chat(case), "street_card", case.id)
        else:
            self.trace(session, case.id, now, "to_command", "system", nearest=match.street,
                       distance_m=round(match.distance_m, 1),
                       reason="no street group" if street else "outside every street")
            if self.settings.command_chat:
                enqueue(session, now, self.settings.command_chat, "routing_card", case.id)
        enqueue(session, now, chat_id, "receipt", case.id, lang=lang)
        session.execute(prepared.DROP_DRAFT, {"user": user_id})
        return case

    def _grid_for(self, category: str, lat: float, lon: float) -> str | None:
        """A grid category goes to the grid cell holding the point, if that cell has a group; else the
        street keeps it (属地兜底)."""
        if self.grids is None or self.settings.categories[category].route_to != "grid":
            return None
        match = self.grids.locate(lat, lon)
        return match.street if match.inside and self.directory.grid_chats.get(match.street) else None

    def _next_number(self, session: Session, now: datetime) -> str:
        day = now.astimezone(self.settings.tz).strftime("%Y%m%d")
        if session.execute(prepared.DAY_COUNTER, {"of_day": day}).first() is None:  # the day's first case, perhaps
            session.execute(insert_ignore(session, DayCounter).values(day=day, last=0))  # on two replicas at once
        # Increment in SQL so two processes on one database never hand out the same number.
        session.execute(prepared.NEXT_NUMBER, {"of_day": day})
        last = session.execute(prepared.DAY_COUNTER, {"of_day": day}).scalar()
        return f"{self.settings.case_prefix}-{day}-{last:04d}"

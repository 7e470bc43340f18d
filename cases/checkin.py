"""On site (到场): the case's on-site deadline (limits.checkin) is met by the first verified on-site
check-in of anyone working the case, a called department's or the street's own people.

Module functions take the caller's session (they are part of its transaction); `OnSite` is the
street's own check-in as a small service with explicit dependencies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import CoreBase, Outcome, Settings
from cases.directory import Directory
from cases.states import Action, may
from geo.distance import distance_m
from storage.models import Call, Case, Deadline, Prompt
from storage.outbox import enqueue


def meet_on_site(session: Session, case: Case, now: datetime, who: str, metres: float) -> bool:
    """Record the first on-site check-in and meet the case's on-site deadline. False when someone was
    already there (the first one stays on the case; every check-in is in the trace anyway)."""
    session.execute(update(Deadline).where(Deadline.case_id == case.id, Deadline.kind == "checkin",
                                           Deadline.belongs_to(None), Deadline.status == "open")
                    .values(status="met", closed_at=now))
    if case.on_site_at is not None:
        return False
    case.on_site_at, case.on_site_by, case.on_site_m = now, who[:160], round(metres, 1)
    return True


def forget_on_site(case: Case) -> None:
    """A reopened case opens a fresh on-site deadline: somebody must go again."""
    case.on_site_at = case.on_site_by = case.on_site_m = None


class OnSite:
    """The street's (or grid's) own people check in on site from the case card's 📍 button."""

    def __init__(self, db, clock, settings: Settings, directory: Directory, committed: Callable[[], None]):
        self.db, self.clock, self.settings, self.committed = db, clock, settings, committed
        self.directory = directory

    async def street_check_in(self, case_id: int, user_id: int, user_name: str, lat: float, lon: float,
                              evidence: dict | None = None) -> Outcome:
        now = self.clock.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if not may(Action.CHECK_IN, case.state):
                return Outcome(False, "wrong_state", case)
            metres = distance_m(lat, lon, case.lat, case.lon)
            if metres > self.settings.checkin_radius_m:
                CoreBase.trace(session, case.id, now, "checkin_refused", "handler", user_id, None,
                               distance_m=round(metres))
                return Outcome(False, "too_far", case, metres)
            first = meet_on_site(session, case, now, user_name, metres)
            CoreBase.trace(session, case.id, now, "on_site", "handler", user_id, None, name=user_name[:128],
                           distance_m=round(metres, 1), first=first, **(evidence or {}))
            case.updated_at = now
            owner = self.directory.owner_chat(case)
            if owner:
                enqueue(session, now, owner, "refresh_card", case.id, card="street")
                enqueue(session, now, owner, "notice", case.id, key="s_on_site", lang=self.settings.group_lang,
                        args={"number": case.number, "name": user_name, "m": round(metres)})
            enqueue(session, now, case.reporter_id, "notice", case.id, key="n_street_on_site",
                    lang=case.reporter_lang, args={"number": case.number})
            return Outcome(True, "checked_in", case, metres)
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.committed()
        return outcome

    # ---- the intent: between the deep link and the location, kept as a prompt row (survives a restart)
    async def place_of(self, what: str, target_id: int) -> tuple[Case | None, Call | None]:
        async with self.db.sessions() as session:
            call = await session.get(Call, target_id) if what == "call" else None
            case = await session.get(Case, call.case_id if call else target_id)
            return case, call

    async def live_due(self) -> list[Prompt]:
        """Open check-ins whose live location has been on probation for a minute or more."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            rows = await session.scalars(select(Prompt).where(
                Prompt.kind == "checkin", Prompt.used_at.is_(None), Prompt.created_at > now - timedelta(days=1)))
            return [p for p in rows if (p.data.get("live") or {}).get("since")
                    and now - datetime.fromisoformat(p.data["live"]["since"]) >= LIVE_HOLD]

    async def note_intent(self, prompt_id: int, **data) -> None:
        def tx(session: Session) -> None:
            prompt = session.get(Prompt, prompt_id)
            prompt.data = {**prompt.data, **data}
        await self.db.write(tx)


# ---- evidence: what a location message can prove ------------------------------------------------------
LIVE_HOLD = timedelta(minutes=1)  # a live location must stay on site this long before the check-in counts


def refusal(settings: Settings, forwarded: bool, venue: bool, live: bool) -> str | None:
    """Why a location message is no check-in (a text key), or None. A forwarded location is someone
    else's, from another time; a venue is a named place picked from a list, not where the phone is;
    with checkin_live only a live location (one that keeps updating) will do."""
    if forwarded:
        return "ci_forwarded"
    if venue:
        return "ci_venue"
    if settings.checkin_live and not live:
        return "ci_not_live"
    return None


def live_verdict(live: dict, metres: float, radius: float, now: datetime) -> str:
    """An update of a live location on probation: 'left' (outside the radius within the first minute),
    'kept' (a minute on site), or 'wait'."""
    if metres > radius:
        return "left"
    return "kept" if now - datetime.fromisoformat(live["since"]) >= LIVE_HOLD else "wait"

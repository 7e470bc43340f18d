"""Verification before closing (核查结案): for categories with `verify: grid|street`, a resolution waits in
`verifying` until a grid worker (or, without a grid group, the street) checks in on site and confirms it.
Only a confirmed resolution goes to the citizen for rating; "not done" reopens the case with a fresh clock,
counted against the handler. Verification has its own deadline (`limits.verify`, default 1 working day),
which nags and climbs the street's chain like the others (cases/deadlines.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.checkin import forget_on_site
from cases.core import CoreBase, Outcome, Settings
from cases.directory import Directory
from cases.states import Action, allowed, may, target
from geo.distance import distance_m
from storage.models import Case, Deadline, Event
from storage.outbox import enqueue


def verifier_chat(settings: Settings, directory: Directory, grids, case: Case) -> int | None:
    """Who verifies: the grid cell's group (the case's own cell, else the one holding its place), or the
    street's group when the category says street or the cell has no group."""
    category = settings.categories.get(case.category)
    if category and category.verify == "grid":
        grid = case.grid
        if grid is None and grids is not None:
            match = grids.locate(case.lat, case.lon)
            grid = match.street if match.inside else None
        if grid and directory.grid_chats.get(grid):
            return directory.grid_chats[grid]
    return directory.street_chat(case.street)


def hold_for_verification(session: Session, case: Case, now: datetime, settings: Settings, directory: Directory,
                          grids, open_deadline) -> bool:
    """Part of the resolving transaction: a category that verifies keeps the case in `verifying`."""
    category = settings.categories.get(case.category)
    chat = verifier_chat(settings, directory, grids, case) if category and category.verify else None
    if chat is None:
        return False
    case.state = target(Action.HOLD)
    due = category.verify_limit.after(now, settings.calendar, settings.tz)
    open_deadline(session, case.id, "verify", now, due)
    enqueue(session, now, chat, "verify_card", case.id)
    enqueue(session, now, case.reporter_id, "notice", case.id, key="n_verifying", lang=case.reporter_lang,
            args={"number": case.number})
    return True


class Verification:
    """The verifier's side: on site, then ✅ done or ❌ not done. Dependencies are given explicitly:
    `open_deadline`, `ask_ratings` and `mark_difficult` are the core's, each part of the caller's transaction."""

    def __init__(self, db, clock, settings: Settings, directory: Directory, grids, committed: Callable[[], None],
                 open_deadline, ask_ratings, mark_difficult):
        self.db, self.clock, self.settings, self.directory, self.grids = db, clock, settings, directory, grids
        self.committed, self.open_deadline = committed, open_deadline
        self.ask_ratings, self.mark_difficult = ask_ratings, mark_difficult

    def chat_for(self, case: Case) -> int | None:
        return verifier_chat(self.settings, self.directory, self.grids, case)

    async def _write(self, tx) -> Outcome:
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.committed()
        return outcome

    async def on_site(self, case_id: int, user_id: int, user_name: str, lat: float, lon: float,
                      evidence: dict | None = None) -> Outcome:
        now = self.clock.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or not may(Action.VERIFY, case.state):
                return Outcome(False, "verify_over", case)
            metres = distance_m(lat, lon, case.lat, case.lon)
            if metres > self.settings.checkin_radius_m:
                CoreBase.trace(session, case.id, now, "checkin_refused", "verifier", user_id, None,
                               distance_m=round(metres))
                return Outcome(False, "too_far", case, metres)
            CoreBase.trace(session, case.id, now, "verify_on_site", "verifier", user_id, None, name=user_name[:128],
                           distance_m=round(metres, 1), **(evidence or {}))
            chat = self.chat_for(case)
            if chat:
                enqueue(session, now, chat, "notice", case.id, key="s_verify_on_site", lang=self.settings.group_lang,
                        args={"number": case.number, "name": user_name, "m": round(metres)})
            return Outcome(True, "checked_in", case, metres)
        return await self._write(tx)

    def _checked(self, session: Session, case_id: int, user_id: int, chat_id: int):
        """The case, if it awaits verification by this group and this member has checked in on site."""
        case = session.get(Case, case_id)
        if case is None:
            return None, Outcome(False, "stale")
        if self.chat_for(case) != chat_id:
            return None, Outcome(False, "not_your_group", case)
        if not may(Action.VERIFY, case.state):
            return None, Outcome(False, "verify_over", case)
        on_site = session.scalar(select(Event.id).where(
            Event.case_id == case_id, Event.kind == "verify_on_site", Event.actor_id == user_id,
            Event.at >= case.resolved_at).limit(1))
        if on_site is None:
            return None, Outcome(False, "verify_need_on_site", case)
        return case, None

    async def may_verify(self, case_id: int, user_id: int, chat_id: int) -> Outcome:
        def tx(session: Session) -> Outcome:
            case, refused = self._checked(session, case_id, user_id, chat_id)
            return refused or Outcome(True, "ok", case)
        return await self.db.write(tx)

    async def confirm(self, case_id: int, user_id: int, user_name: str, chat_id: int) -> Outcome:
        now = self.clock.now()

        def tx(session: Session) -> Outcome:
            case, refused = self._checked(session, case_id, user_id, chat_id)
            if refused:
                return refused
            won = session.execute(update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.VERIFY)))
                                  .values(state=target(Action.VERIFY), updated_at=now)).rowcount
            if not won:
                return Outcome(False, "verify_over", case)
            session.refresh(case)
            self._close(session, case_id, now)
            CoreBase.trace(session, case_id, now, "verified", "verifier", user_id, chat_id, name=user_name[:128])
            self.ask_ratings(session, case, now)
            enqueue(session, now, self.directory.owner_chat(case), "notice", case_id, key="s_verified",
                    lang=self.settings.group_lang, args={"number": case.number, "name": user_name})
            return Outcome(True, "verified_tap", case)
        return await self._write(tx)

    async def not_done(self, case_id: int, user_id: int, user_name: str, chat_id: int, reason: str) -> Outcome:
        """Not really fixed: back to the same street with a fresh clock, and counted against the handler."""
        now = self.clock.now()
        reason = reason.strip()[:500] or "—"

        def tx(session: Session) -> Outcome:
            case, refused = self._checked(session, case_id, user_id, chat_id)
            if refused:
                return refused
            won = session.execute(update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.VERIFY_FAIL)))
                                  .values(state=target(Action.VERIFY_FAIL), resolved_at=None,
                                          reopen_count=Case.reopen_count + 1, updated_at=now)).rowcount
            if not won:
                return Outcome(False, "verify_over", case)
            session.refresh(case)
            forget_on_site(case)
            self._close(session, case_id, now)
            CoreBase.trace(session, case_id, now, "verify_failed", "verifier", user_id, chat_id, name=user_name[:128],
                           reason=reason, handler_id=case.handler_id, handler=case.handler_name)
            category = self.settings.categories[case.category]
            for kind, d in category.limits.items():
                if kind != "respond":
                    self.open_deadline(session, case_id, kind, now, d.after(now, self.settings.calendar,
                                                                            self.settings.tz))
            CoreBase.trace(session, case_id, now, "reopened", "verifier", user_id, chat_id, count=case.reopen_count,
                           by="verification")
            if case.reopen_count >= 2:  # failed twice: the duty leaders look at it
                self.mark_difficult(session, case, now, {"why": "reopened_twice"})
            owner = self.directory.owner_chat(case)
            enqueue(session, now, owner, "notice", case_id, key="s_verify_failed", lang=self.settings.group_lang,
                    args={"number": case.number, "name": user_name, "reason": reason,
                          "handler": case.handler_name or "—"})
            enqueue(session, now, owner, "street_card", case_id)
            return Outcome(True, "verify_failed_tap", case)
        return await self._write(tx)

    @staticmethod
    def _close(session: Session, case_id: int, now: datetime) -> None:
        session.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "verify",
                                               Deadline.status == "open").values(status="met", closed_at=now))

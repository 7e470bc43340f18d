"""After acceptance: the street calls departments (呼叫), they answer and check in (报到), the
street resolves the case with evidence (不解决不结案), the citizen rates it, units rate each other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.checkin import forget_on_site, meet_on_site
from cases.core import Outcome, Service
from cases.rounds import moved_on
from cases.states import (
    LIVE_CALLS,
    PER_CALL,
    Action,
    CallAction,
    CallStatus,
    allowed,
    may,
    target,
)
from cases.states import DeadlineKind as Kind
from cases.states import DeadlineStatus as DS
from cases.verification import hold_for_verification
from geo.distance import distance_m
from storage.models import Call, Case, Deadline, Event, Photo
from storage.outbox import enqueue

RATINGS = ("satisfied", "mostly", "unsatisfied")


class Disposal(Service):
    """Calls, answers, check-ins, resolution, ratings (the citizen's and the units' of each other)."""

    def __init__(self, base, mark_difficult):
        super().__init__(base)
        self.mark_difficult = mark_difficult  # the escalations' (a dispute, a second reopening)

    def _street_case(self, session: Session, case_id: int, chat_id: int, action: Action):
        case = session.get(Case, case_id)
        if case is None:
            return None, Outcome(False, "stale")
        if self.directory.owner_chat(case) != chat_id:
            return None, Outcome(False, "not_your_group", case)
        if not may(action, case.state):
            return None, Outcome(False, "wrong_state", case)
        return case, None

    def _close_deadlines(self, session: Session, case_id: int, kinds: tuple[str, ...], now: datetime,
                         status: str = "met", call_id: int | None = None) -> None:
        """The case's own deadlines of these kinds, or with call_id, that call's."""
        session.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind.in_(kinds),
                                               Deadline.belongs_to(call_id), Deadline.status == "open")
                        .values(status=status, closed_at=now))

    # ---- calls ------------------------------------------------------------------------------------
    async def call_departments(self, case_id: int, departments: list[str], checkin_due: datetime,
                               user_id: int, user_name: str, chat_id: int, place: dict | None = None) -> Outcome:
        """Call departments to check in by `checkin_due` at `place` (the case's own location by default)."""
        now = self.now()
        unknown = [d for d in departments if d not in self.settings.departments]
        if unknown or not departments:
            return Outcome(False, "stale")

        def tx(session: Session) -> Outcome:
            case, refused = self._street_case(session, case_id, chat_id, Action.CALL)
            if refused:
                return refused
            open_calls = set(session.scalars(select(Call.department).where(
                Call.case_id == case_id, Call.status.in_(LIVE_CALLS))))
            new = [d for d in departments if d not in open_calls]
            if not new:
                return Outcome(False, "already_called", case)
            for key in new:
                call = Call(case_id=case_id, department=key, status=CallStatus.PENDING,
                            lat=place["lat"] if place else case.lat, lon=place["lon"] if place else case.lon,
                            checkin_due=checkin_due, called_by=user_id, called_by_name=user_name[:128],
                            created_at=now)
                session.add(call)
                session.flush()
                dept_chat = self.directory.department_chat(key)
                self.open_call_deadlines(session, call, now)
                if dept_chat:
                    enqueue(session, now, dept_chat, "call_card", case_id, call_id=call.id)
                tracker = self.directory.tracker_chat(key)
                if tracker:  # a city unit: the district department tracking it follows the call up
                    enqueue(session, now, tracker, "call_card", case_id, call_id=call.id, tracking=True)
            self.trace(session, case_id, now, "called", "handler", user_id, chat_id, departments=new,
                       checkin_due=checkin_due.isoformat(), **({"place": place} if place else {}))
            case.updated_at = now
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            enqueue(session, now, case.reporter_id, "notice", case_id, key="n_called", lang=case.reporter_lang,
                    args={"number": case.number, "n": len(new)})
            return Outcome(True, "called", case)
        return await self.write(tx)

    def _dept_call(self, session: Session, call_id: int, chat_id: int, action: CallAction):
        call = session.get(Call, call_id)
        if call is None:
            return None, None, Outcome(False, "stale")
        if self.directory.department_chat(call.department) != chat_id:  # an unknown department has no group
            return None, None, Outcome(False, "not_your_group")
        if not may(action, call.status):
            return None, None, Outcome(False, "call_" + call.status)
        return call, session.get(Case, call.case_id), None

    def _followers(self, case: Case, call: Call) -> list[int]:
        """Who hears how a call goes: the calling street, and a city unit's tracking department."""
        chats = [self.directory.owner_chat(case), self.directory.tracker_chat(call.department)]
        return [c for c in chats if c]

    async def answer_call(self, call_id: int, user_id: int, user_name: str, chat_id: int) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, CallAction.ANSWER)
            if refused:
                return refused
            won = session.execute(update(Call).where(
                Call.id == call_id, Call.status.in_(allowed(CallAction.ANSWER))).values(
                status=target(CallAction.ANSWER), answered_by_name=user_name[:128], answered_at=now)).rowcount
            if not won:
                return Outcome(False, "call_answered", case)
            self._close_deadlines(session, case.id, (Kind.ANSWER,), now, call_id=call_id)
            self.trace(session, case.id, now, "answered", "department", user_id, chat_id, department=call.department)
            enqueue(session, now, chat_id, "refresh_call", case.id, call_id=call_id)
            args = {"number": case.number, "department": call.department, "name": user_name}
            for chat in self._followers(case, call):
                enqueue(session, now, chat, "notice", case.id, key="s_answered", lang=self.settings.group_lang,
                        args=args)
            return Outcome(True, "answered", case)
        return await self.write(tx)

    async def check_in(self, call_id: int, user_id: int, user_name: str, lat: float, lon: float,
                       evidence: dict | None = None) -> Outcome:
        """Presence on site, checked against the call's place (geodesic distance)."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            if call is None:
                return Outcome(False, "stale")
            if not may(CallAction.CHECK_IN, call.status):
                return Outcome(False, "call_" + call.status)
            metres = distance_m(lat, lon, call.lat, call.lon)
            case = session.get(Case, call.case_id)
            if metres > self.settings.checkin_radius_m:
                self.trace(session, case.id, now, "checkin_refused", "department", user_id, None,
                           department=call.department, distance_m=round(metres))
                return Outcome(False, "too_far", case, metres)
            session.execute(update(Call).where(Call.id == call_id).values(
                status=target(CallAction.CHECK_IN), checked_in_by_name=user_name[:128], checked_in_at=now,
                checkin_distance_m=round(metres, 1), answered_at=call.answered_at or now,
                answered_by_name=call.answered_by_name or user_name[:128]))
            self._close_deadlines(session, case.id, PER_CALL, now, call_id=call_id)
            # the first one on site, of anyone working the case, meets the case's on-site deadline too
            meet_on_site(session, case, now, f"{user_name} · {self.settings.department_name(call.department)}", metres)
            self.trace(session, case.id, now, "checked_in", "department", user_id, None,
                       department=call.department, distance_m=round(metres, 1), **(evidence or {}))
            dept_chat = self.directory.department_chat(call.department)
            if dept_chat:
                enqueue(session, now, dept_chat, "refresh_call", case.id, call_id=call_id)
            args = {"number": case.number, "department": call.department, "name": user_name,
                    "m": round(metres)}
            for chat in self._followers(case, call):
                enqueue(session, now, chat, "notice", case.id, key="s_checked_in", lang=self.settings.group_lang,
                        args=args)
            enqueue(session, now, case.reporter_id, "notice", case.id, key="n_on_site", lang=case.reporter_lang,
                    args={"number": case.number})
            return Outcome(True, "checked_in", case, metres)
        return await self.write(tx)

    async def decline_call(self, call_id: int, user_id: int, user_name: str, chat_id: int,
                           reason: str = "") -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, CallAction.DECLINE)
            if refused:
                return refused
            call.status, call.decline_reason = target(CallAction.DECLINE), reason.strip()[:250] or "not ours"
            self._close_deadlines(session, case.id, PER_CALL, now, DS.CANCELLED, call_id=call_id)
            self.trace(session, case.id, now, "declined", "department", user_id, chat_id, department=call.department,
                       reason=call.decline_reason)
            enqueue(session, now, chat_id, "refresh_call", case.id, call_id=call_id)
            enqueue(session, now, self.directory.owner_chat(case), "declined_notice", case.id,
                    call_id=call_id)
            return Outcome(True, "declined", case)
        return await self.write(tx)

    async def dispute_decline(self, call_id: int, user_id: int, chat_id: int) -> Outcome:
        """The street disputes a department's "not ours": unclear responsibility, a difficult case."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            case = session.get(Case, call.case_id) if call else None
            if case is None or self.directory.owner_chat(case) != chat_id:
                return Outcome(False, "not_your_group", case)
            if call.status != CallStatus.DECLINED:
                return Outcome(False, "stale", case)
            if case.difficult:
                return Outcome(False, "already_difficult", case)
            self.mark_difficult(session, case, now, {"why": "disputed", "department": call.department}, user_id,
                                chat_id)
            return Outcome(True, "difficult_sent", case)
        return await self.write(tx)

    async def note_on_call(self, call_id: int, user_id: int, user_name: str, chat_id: int, text: str) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, CallAction.NOTE)
            if refused:
                return refused
            self.trace(session, case.id, now, "note", "department", user_id, chat_id, department=call.department,
                       text=text[:500])
            enqueue(session, now, self.directory.owner_chat(case), "notice", case.id, key="s_note",
                    lang=self.settings.group_lang, args={"number": case.number, "name": user_name, "text": text[:500],
                                                     "department": call.department})
            return Outcome(True, "noted", case)
        return await self.write(tx)

    # ---- resolution and ratings -------------------------------------------------------------------
    async def resolve(self, case_id: int, user_id: int, chat_id: int, note: str, photo: dict | None,
                      round_: int | None = None) -> Outcome:
        """No photo, no resolution; no note, no resolution. round_: the round of the card replied to."""
        if photo is None:
            return Outcome(False, "need_photo")
        if not note.strip():
            return Outcome(False, "need_note")
        now = self.now()

        def tx(session: Session) -> Outcome:
            case, refused = self._street_case(session, case_id, chat_id, Action.RESOLVE)
            if refused:
                return refused
            if moved_on(case, round_):
                return Outcome(False, "old_round", case)
            position = len(session.scalars(select(Photo.id).where(Photo.case_id == case_id)).all())
            session.add(Photo(case_id=case_id, position=position, stage="after", **photo))
            case.state, case.resolved_at = target(Action.RESOLVE), now
            case.resolution_note, case.resolved_by = note[:1000], user_id
            case.updated_at = now
            self._close_deadlines(session, case_id, ("respond", "assign", "checkin", "resolve"), now)
            self.trace(session, case_id, now, "resolved", "handler", user_id, chat_id, note=note[:1000])
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            if hold_for_verification(session, case, now, self.settings, self.directory, self.grids,
                                     self.open_deadline):
                return Outcome(True, "resolved_verify", case)  # 核查结案: on-site verification first
            self.ask_ratings(session, case, now)
            return Outcome(True, "resolved", case)
        return await self.write(tx)

    def ask_ratings(self, session: Session, case: Case, now: datetime) -> None:
        """A resolution that stands: the citizen rates it, and street and departments rate each other."""
        self.open_deadline(session, case.id, "rating", now, now + self.settings.rating_timeout)
        this_round = case.reopen_count  # the rating buttons belong to this round (cases/rounds.py)
        enqueue(session, now, case.reporter_id, "rating_request", case.id, lang=case.reporter_lang, round=this_round)
        calls = session.scalars(select(Call).where(Call.case_id == case.id, Call.status != CallStatus.DECLINED)).all()
        owner = self.directory.owner_chat(case)
        for call in calls:  # mutual rating (双向评价): each side rates the other, per call
            if owner:
                enqueue(session, now, owner, "rate_department", case.id, call_id=call.id, round=this_round)
            dept_chat = self.directory.department_chat(call.department)
            if dept_chat:
                enqueue(session, now, dept_chat, "rate_call", case.id, call_id=call.id, round=this_round)

    async def rate(self, case_id: int, user_id: int, rating: str, round_: int | None = None,
                   via: str | None = None) -> Outcome:
        """The citizen's verdict. "Not satisfied" reopens the case to the same street, fresh clock.
        round_: the round the rating buttons were made for (an older one is refused).
        via="phone": the command centre took it by a call-back (回访), marked so in the trace."""
        if rating not in RATINGS:
            return Outcome(False, "stale")
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or case.reporter_id != user_id:
                return Outcome(False, "stale")
            if moved_on(case, round_):
                return Outcome(False, "old_round", case)
            if not may(Action.REOPEN, case.state):  # the same state allows CLOSE
                return Outcome(False, "already_rated", case)
            street_chat = self.directory.owner_chat(case)
            if street_chat:  # the card's last word for this round: the outcome (old rounds' cards too)
                enqueue(session, now, street_chat, "refresh_card", case_id, card="street", old_rounds=True)
            self._close_deadlines(session, case_id, ("rating",), now)
            self.trace(session, case_id, now, "rated", "command" if via else "citizen", user_id, user_id,
                       rating=rating, **({"via": via} if via else {}))
            case.updated_at = now
            if rating == "unsatisfied":
                case.state, case.reopen_count, case.resolved_at = target(Action.REOPEN), case.reopen_count + 1, None
                forget_on_site(case)
                category = self.settings.categories[case.category]
                for kind, due in self.case_deadlines(category, now).items():
                    if kind not in ("respond",):
                        self.open_deadline(session, case_id, kind, now, due)
                self.trace(session, case_id, now, "reopened", "citizen", user_id, user_id, count=case.reopen_count)
                if case.reopen_count >= 2:  # failed twice: the duty leaders look at it
                    self.mark_difficult(session, case, now, {"why": "reopened_twice"})
                enqueue(session, now, street_chat, "street_card", case_id)
                enqueue(session, now, case.reporter_id, "notice", case_id, key="n_reopened",
                        lang=case.reporter_lang, args={"number": case.number})
            else:
                case.state, case.rating, case.closed_at = target(Action.CLOSE), rating, now
                self.trace(session, case_id, now, "closed", "citizen", user_id, user_id, rating=rating)
                enqueue(session, now, case.reporter_id, "notice", case_id, key="n_thanks", lang=case.reporter_lang,
                        args={"number": case.number})
            return Outcome(True, "rated_" + rating, case)
        return await self.write(tx)

    async def comment_rating(self, case_id: int, user_id: int, text: str) -> Outcome:
        """The citizen's optional words after a rating: kept on the case, in the trace, and sent to the group
        that handled it (with "not satisfied" they tell the reopened street what is still wrong)."""
        text = (text or "").strip()[:500]
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or case.reporter_id != user_id or not text:
                return Outcome(False, "stale")
            last = session.scalar(select(Event).where(Event.case_id == case_id, Event.kind.in_(
                ("rated", "rating_comment"))).order_by(Event.id.desc()).limit(1))
            if last is None or last.kind != "rated":  # one comment per rating
                return Outcome(False, "stale", case)
            case.rating_comment, case.updated_at = text, now
            self.trace(session, case_id, now, "rating_comment", "citizen", user_id, user_id,
                       rating=last.data["rating"], text=text)
            enqueue(session, now, self.directory.owner_chat(case), "notice", case_id, key="s_comment",
                    lang=self.settings.group_lang, args={"number": case.number, "rating": last.data["rating"],
                                                     "text": text})
            if last.data["rating"] == "unsatisfied":  # the reopened card says why it came back
                enqueue(session, now, self.directory.owner_chat(case), "refresh_card", case_id, card="street")
            return Outcome(True, "comment_saved", case)
        return await self.write(tx)

    async def close_unrated(self) -> int:
        """Cases resolved but not rated within the timeout close as "closed without rating"."""
        now = self.now()

        def tx(session: Session) -> int:
            due = session.scalars(select(Deadline).where(Deadline.kind == "rating", Deadline.status == "open",
                                                         Deadline.due_at <= now)).all()
            for deadline in due:
                case = session.get(Case, deadline.case_id)
                deadline.status, deadline.closed_at = "lapsed", now
                if may(Action.CLOSE, case.state):
                    case.state, case.closed_at, case.rating, case.updated_at = target(Action.CLOSE), now, "none", now
                    self.trace(session, case.id, now, "closed", "system", rating="none")
                    enqueue(session, now, case.reporter_id, "notice", case.id, key="n_closed_unrated",
                            lang=case.reporter_lang, args={"number": case.number})
                    if self.directory.owner_chat(case):  # the card shows it closed
                        enqueue(session, now, self.directory.owner_chat(case), "refresh_card", case.id, card="street")
            return len(due)
        n = await self.db.write(tx)
        if n:
            self.outbox_written()
        return n

    async def rate_department(self, call_id: int, chat_id: int, user_id: int, value: str,
                              round_: int | None = None) -> Outcome:
        return await self._mutual(call_id, chat_id, user_id, "street_rating", value, ("good", "fair", "poor"), True,
                                  round_)

    async def rate_call(self, call_id: int, chat_id: int, user_id: int, value: str,
                        round_: int | None = None) -> Outcome:
        return await self._mutual(call_id, chat_id, user_id, "department_rating", value,
                                  ("accurate", "inaccurate"), False, round_)

    async def _mutual(self, call_id, chat_id, user_id, field, value, allowed, by_street: bool,
                      round_: int | None = None) -> Outcome:
        if value not in allowed:
            return Outcome(False, "stale")
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            if call is None:
                return Outcome(False, "stale")
            case = session.get(Case, call.case_id)
            owner = self.directory.owner_chat(case) if by_street else \
                self.directory.department_chat(call.department)
            if owner != chat_id:
                return Outcome(False, "not_your_group", case)
            if moved_on(case, round_):
                return Outcome(False, "old_round", case)
            won = session.execute(update(Call).where(Call.id == call_id, getattr(Call, field).is_(None))
                                  .values(**{field: value})).rowcount
            if not won:
                return Outcome(False, "already_rated", case)
            self.trace(session, case.id, now, "mutual_rating", "handler" if by_street else "department", user_id,
                       chat_id, department=call.department, **{field: value})
            return Outcome(True, "thanks", case)
        return await self.db.write(tx)

    async def calls_of(self, case_id: int) -> list[Call]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Call).where(Call.case_id == case_id).order_by(Call.id)))

    async def load_call(self, call_id: int) -> Call | None:
        async with self.sessions() as session:
            return await session.get(Call, call_id)

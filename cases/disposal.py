"""After acceptance: the street calls departments (呼叫), they answer and check in (报到), the
street resolves the case with evidence (不解决不结案), the citizen rates it, units rate each other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import CoreBase
from cases.lifecycle import Outcome
from geo.distance import distance_m
from storage.models import Call, Case, Deadline, Event, Photo
from storage.outbox import enqueue

RATINGS = ("satisfied", "mostly", "unsatisfied")


class DisposalMixin(CoreBase):
    def _street_case(self, session: Session, case_id: int, chat_id: int, states: tuple[str, ...]):
        case = session.get(Case, case_id)
        if case is None:
            return None, Outcome(False, "stale")
        if self.settings.owner_chat(case) != chat_id:
            return None, Outcome(False, "not_your_group", case)
        if case.state not in states:
            return None, Outcome(False, "wrong_state", case)
        return case, None

    def _close_deadlines(self, session: Session, case_id: int, kinds: tuple[str, ...], now: datetime,
                         status: str = "met") -> None:
        session.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind.in_(kinds),
                                               Deadline.status == "open").values(status=status, closed_at=now))

    async def _write(self, tx) -> Outcome:
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.outbox_written()
        return outcome

    # ---- calls ------------------------------------------------------------------------------------
    async def call_departments(self, case_id: int, departments: list[str], checkin_due: datetime,
                               user_id: int, user_name: str, chat_id: int, place: dict | None = None) -> Outcome:
        """Call departments to check in by `checkin_due` at `place` (the case's own location by default)."""
        now = self.now()
        unknown = [d for d in departments if d not in self.settings.departments]
        if unknown or not departments:
            return Outcome(False, "stale")

        def tx(session: Session) -> Outcome:
            case, refused = self._street_case(session, case_id, chat_id, ("accepted",))
            if refused:
                return refused
            open_calls = set(session.scalars(select(Call.department).where(
                Call.case_id == case_id, Call.status.in_(("pending", "answered")))))
            new = [d for d in departments if d not in open_calls]
            if not new:
                return Outcome(False, "already_called", case)
            for key in new:
                call = Call(case_id=case_id, department=key, status="pending",
                            lat=place["lat"] if place else case.lat, lon=place["lon"] if place else case.lon,
                            checkin_due=checkin_due, called_by=user_id, called_by_name=user_name[:128],
                            created_at=now)
                session.add(call)
                session.flush()
                dept_chat = self.settings.departments[key][2]
                self.open_deadline(session, case_id, f"answer:{call.id}", now, now + self.settings.call_answer)
                self.open_deadline(session, case_id, f"checkin:{call.id}", now, checkin_due)
                if dept_chat:
                    enqueue(session, now, dept_chat, "call_card", case_id, call_id=call.id)
                tracker = self.settings.tracker_chat(key)
                if tracker:  # a city unit: the district department tracking it follows the call up
                    enqueue(session, now, tracker, "call_card", case_id, call_id=call.id, tracking=True)
            self.trace(session, case_id, now, "called", "handler", user_id, chat_id, departments=new,
                       checkin_due=checkin_due.isoformat(), **({"place": place} if place else {}))
            case.updated_at = now
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            enqueue(session, now, case.reporter_id, "notice", case_id, key="n_called", lang=case.reporter_lang,
                    args={"number": case.number, "n": len(new)})
            return Outcome(True, "called", case)
        return await self._write(tx)

    def _dept_call(self, session: Session, call_id: int, chat_id: int, states: tuple[str, ...]):
        call = session.get(Call, call_id)
        if call is None:
            return None, None, Outcome(False, "stale")
        dept = self.settings.departments.get(call.department)
        if dept is None or dept[2] != chat_id:
            return None, None, Outcome(False, "not_your_group")
        if call.status not in states:
            return None, None, Outcome(False, "call_" + call.status)
        return call, session.get(Case, call.case_id), None

    def _followers(self, case: Case, call: Call) -> list[int]:
        """Who hears how a call goes: the calling street, and a city unit's tracking department."""
        chats = [self.settings.owner_chat(case), self.settings.tracker_chat(call.department)]
        return [c for c in chats if c]

    async def answer_call(self, call_id: int, user_id: int, user_name: str, chat_id: int) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, ("pending",))
            if refused:
                return refused
            won = session.execute(update(Call).where(Call.id == call_id, Call.status == "pending").values(
                status="answered", answered_by_name=user_name[:128], answered_at=now)).rowcount
            if not won:
                return Outcome(False, "call_answered", case)
            self._close_deadlines(session, case.id, (f"answer:{call_id}",), now)
            self.trace(session, case.id, now, "answered", "department", user_id, chat_id, department=call.department)
            enqueue(session, now, chat_id, "refresh_call", case.id, call_id=call_id)
            args = {"number": case.number, "department": self.dept_name(call.department), "name": user_name}
            for chat in self._followers(case, call):
                enqueue(session, now, chat, "notice", case.id, key="s_answered", lang=self.settings_lang(), args=args)
            return Outcome(True, "answered", case)
        return await self._write(tx)

    async def check_in(self, call_id: int, user_id: int, user_name: str, lat: float, lon: float) -> Outcome:
        """Presence on site, checked against the call's place (geodesic distance)."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            if call is None:
                return Outcome(False, "stale")
            if call.status not in ("pending", "answered"):
                return Outcome(False, "call_" + call.status)
            metres = distance_m(lat, lon, call.lat, call.lon)
            case = session.get(Case, call.case_id)
            if metres > self.settings.checkin_radius_m:
                self.trace(session, case.id, now, "checkin_refused", "department", user_id, None,
                           department=call.department, distance_m=round(metres))
                return Outcome(False, "too_far", case, metres)
            session.execute(update(Call).where(Call.id == call_id).values(
                status="checked_in", checked_in_by_name=user_name[:128], checked_in_at=now,
                checkin_distance_m=round(metres, 1), answered_at=call.answered_at or now,
                answered_by_name=call.answered_by_name or user_name[:128]))
            # The first department on site also meets the case's own check-in limit (e.g. road damage: 1 h).
            self._close_deadlines(session, case.id, (f"answer:{call_id}", f"checkin:{call_id}", "checkin"), now)
            self.trace(session, case.id, now, "checked_in", "department", user_id, None,
                       department=call.department, distance_m=round(metres, 1))
            dept_chat = self.settings.departments[call.department][2]
            if dept_chat:
                enqueue(session, now, dept_chat, "refresh_call", case.id, call_id=call_id)
            args = {"number": case.number, "department": self.dept_name(call.department), "name": user_name,
                    "m": round(metres)}
            for chat in self._followers(case, call):
                enqueue(session, now, chat, "notice", case.id, key="s_checked_in", lang=self.settings_lang(),
                        args=args)
            enqueue(session, now, case.reporter_id, "notice", case.id, key="n_on_site", lang=case.reporter_lang,
                    args={"number": case.number})
            return Outcome(True, "checked_in", case, metres)
        return await self._write(tx)

    async def decline_call(self, call_id: int, user_id: int, user_name: str, chat_id: int,
                           reason: str = "") -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, ("pending", "answered"))
            if refused:
                return refused
            call.status, call.decline_reason = "declined", reason.strip()[:250] or "not ours"
            self._close_deadlines(session, case.id, (f"answer:{call_id}", f"checkin:{call_id}"), now, "cancelled")
            self.trace(session, case.id, now, "declined", "department", user_id, chat_id, department=call.department,
                       reason=call.decline_reason)
            enqueue(session, now, chat_id, "refresh_call", case.id, call_id=call_id)
            enqueue(session, now, self.settings.owner_chat(case), "declined_notice", case.id,
                    call_id=call_id)
            return Outcome(True, "declined", case)
        return await self._write(tx)

    async def dispute_decline(self, call_id: int, user_id: int, chat_id: int) -> Outcome:
        """The street disputes a department's "not ours": unclear responsibility, a difficult case."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            case = session.get(Case, call.case_id) if call else None
            if case is None or self.settings.owner_chat(case) != chat_id:
                return Outcome(False, "not_your_group", case)
            if call.status != "declined":
                return Outcome(False, "stale", case)
            if case.difficult:
                return Outcome(False, "already_difficult", case)
            reason = f"{self.dept_name(call.department)} 退回有争议 / disputed 'not ours'"
            self.mark_difficult(session, case, now, reason, user_id, chat_id)
            return Outcome(True, "difficult_sent", case)
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.outbox_written()
        return outcome

    async def note_on_call(self, call_id: int, user_id: int, user_name: str, chat_id: int, text: str) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            call, case, refused = self._dept_call(session, call_id, chat_id, ("pending", "answered", "checked_in"))
            if refused:
                return refused
            self.trace(session, case.id, now, "note", "department", user_id, chat_id, department=call.department,
                       text=text[:500])
            enqueue(session, now, self.settings.owner_chat(case), "notice", case.id, key="s_note",
                    lang=self.settings_lang(), args={"number": case.number, "name": user_name, "text": text[:500],
                                                     "department": self.dept_name(call.department)})
            return Outcome(True, "noted", case)
        return await self._write(tx)

    # ---- resolution and ratings -------------------------------------------------------------------
    async def resolve(self, case_id: int, user_id: int, chat_id: int, note: str, photo: dict | None) -> Outcome:
        """No photo, no resolution; no note, no resolution."""
        if photo is None:
            return Outcome(False, "need_photo")
        if not note.strip():
            return Outcome(False, "need_note")
        now = self.now()

        def tx(session: Session) -> Outcome:
            case, refused = self._street_case(session, case_id, chat_id, ("accepted",))
            if refused:
                return refused
            position = len(session.scalars(select(Photo.id).where(Photo.case_id == case_id)).all())
            session.add(Photo(case_id=case_id, position=position, stage="after", **photo))
            case.state, case.resolved_at, case.resolution_note, case.resolved_by = "resolved", now, note[:1000], user_id
            case.updated_at = now
            self._close_deadlines(session, case_id, ("respond", "assign", "checkin", "resolve"), now)
            self.open_deadline(session, case_id, "rating", now, now + self.settings.rating_timeout)
            self.trace(session, case_id, now, "resolved", "handler", user_id, chat_id, note=note[:1000])
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            enqueue(session, now, case.reporter_id, "rating_request", case_id, lang=case.reporter_lang)
            calls = session.scalars(select(Call).where(Call.case_id == case_id, Call.status != "declined")).all()
            for call in calls:  # mutual rating (双向评价): each side rates the other, per call
                enqueue(session, now, chat_id, "rate_department", case_id, call_id=call.id)
                dept_chat = self.settings.departments[call.department][2]
                if dept_chat:
                    enqueue(session, now, dept_chat, "rate_call", case_id, call_id=call.id)
            return Outcome(True, "resolved", case)
        return await self._write(tx)

    async def rate(self, case_id: int, user_id: int, rating: str) -> Outcome:
        """The citizen's verdict. "Not satisfied" reopens the case to the same street, fresh clock."""
        if rating not in RATINGS:
            return Outcome(False, "stale")
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or case.reporter_id != user_id:
                return Outcome(False, "stale")
            if case.state != "resolved":
                return Outcome(False, "already_rated", case)
            self._close_deadlines(session, case_id, ("rating",), now)
            self.trace(session, case_id, now, "rated", "citizen", user_id, user_id, rating=rating)
            case.updated_at = now
            if rating == "unsatisfied":
                case.state, case.reopen_count, case.resolved_at = "accepted", case.reopen_count + 1, None
                category = self.settings.categories[case.category]
                for kind, due in self._deadlines(category, now).items():
                    if kind not in ("respond",):
                        self.open_deadline(session, case_id, kind, now, due)
                self.trace(session, case_id, now, "reopened", "citizen", user_id, user_id, count=case.reopen_count)
                if case.reopen_count >= 2:  # failed twice: the duty leaders look at it
                    self.mark_difficult(session, case, now, "两次重办 / reopened twice")
                street_chat = self.settings.owner_chat(case)
                enqueue(session, now, street_chat, "street_card", case_id)
                enqueue(session, now, case.reporter_id, "notice", case_id, key="n_reopened",
                        lang=case.reporter_lang, args={"number": case.number})
            else:
                case.state, case.rating, case.closed_at = "closed", rating, now
                self.trace(session, case_id, now, "closed", "citizen", user_id, user_id, rating=rating)
                enqueue(session, now, case.reporter_id, "notice", case_id, key="n_thanks", lang=case.reporter_lang,
                        args={"number": case.number})
            return Outcome(True, "rated_" + rating, case)
        return await self._write(tx)

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
            enqueue(session, now, self.settings.owner_chat(case), "notice", case_id, key="s_comment",
                    lang=self.settings_lang(), args={"number": case.number, "rating": last.data["rating"],
                                                     "text": text})
            return Outcome(True, "comment_saved", case)
        return await self._write(tx)

    async def close_unrated(self) -> int:
        """Cases resolved but not rated within the timeout close as "closed without rating"."""
        now = self.now()

        def tx(session: Session) -> int:
            due = session.scalars(select(Deadline).where(Deadline.kind == "rating", Deadline.status == "open",
                                                         Deadline.due_at <= now)).all()
            for deadline in due:
                case = session.get(Case, deadline.case_id)
                deadline.status, deadline.closed_at = "lapsed", now
                if case.state == "resolved":
                    case.state, case.closed_at, case.rating, case.updated_at = "closed", now, "none", now
                    self.trace(session, case.id, now, "closed", "system", rating="none")
                    enqueue(session, now, case.reporter_id, "notice", case.id, key="n_closed_unrated",
                            lang=case.reporter_lang, args={"number": case.number})
            return len(due)
        n = await self.db.write(tx)
        if n:
            self.outbox_written()
        return n

    async def rate_department(self, call_id: int, chat_id: int, user_id: int, value: str) -> Outcome:
        return await self._mutual(call_id, chat_id, user_id, "street_rating", value, ("good", "fair", "poor"), True)

    async def rate_call(self, call_id: int, chat_id: int, user_id: int, value: str) -> Outcome:
        return await self._mutual(call_id, chat_id, user_id, "department_rating", value,
                                  ("accurate", "inaccurate"), False)

    async def _mutual(self, call_id, chat_id, user_id, field, value, allowed, by_street: bool) -> Outcome:
        if value not in allowed:
            return Outcome(False, "stale")
        now = self.now()

        def tx(session: Session) -> Outcome:
            call = session.get(Call, call_id)
            if call is None:
                return Outcome(False, "stale")
            case = session.get(Case, call.case_id)
            owner = self.settings.owner_chat(case) if by_street else \
                self.settings.departments[call.department][2]
            if owner != chat_id:
                return Outcome(False, "not_your_group", case)
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

    def dept_name(self, key: str) -> str:
        return self.settings.departments[key][0] if key in self.settings.departments else key

    def settings_lang(self) -> str:
        return self.settings.group_lang


"""Phone-backs (回访): cases closed without a rating, and every "not satisfied", are listed for the command
centre in the daily summary; a member records the call's outcome with /callback, which counts as the
citizen's rating and is marked in the trace as taken by phone."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.core import CoreBase, Outcome
from cases.states import Action, may, target
from storage.models import Case, Event

WORDS = {"满意": "satisfied", "基本满意": "mostly", "不满意": "unsatisfied",
         "satisfied": "satisfied", "mostly": "mostly", "unsatisfied": "unsatisfied"}
LOOK_BACK = timedelta(days=30)  # older cases are past calling back
SHOWN = 30


class PhoneBacks:
    def __init__(self, db, clock, settings, rate):
        """rate: the citizen rating (core.disposal.rate), given via="phone"."""
        self.db, self.clock, self.settings, self.rate = db, clock, settings, rate

    async def due(self) -> list[tuple[str, str]]:
        """(case number, why) for every case owed a call: closed unrated, or rated not satisfied; each
        until a call-back is recorded."""
        since = self.clock.now() - LOOK_BACK
        async with self.db.sessions() as session:
            called = set(await session.scalars(select(Event.case_id).where(Event.kind == "callback",
                                                                         Event.at >= since)))
            unrated = await session.scalars(select(Case).where(Case.state == "closed", Case.rating == "none",
                                                               Case.closed_at >= since).order_by(Case.id))
            out = [(c.number, "unrated") for c in unrated if c.id not in called]
            rated = await session.scalars(select(Event).where(Event.kind == "rated", Event.at >= since))
            unhappy = {e.case_id for e in rated if e.data.get("rating") == "unsatisfied"} - called
            if unhappy:
                numbers = await session.scalars(select(Case.number).where(Case.id.in_(unhappy)).order_by(Case.id))
                out += [(number, "unsatisfied") for number in numbers]
        return out

    async def summary(self, _day: date) -> dict:
        """For the daily summary, as data: the first SHOWN cases owed a call-back, and how many in all."""
        due = await self.due()
        return {"phonebacks": [list(x) for x in due[:SHOWN]], "phonebacks_total": len(due)}

    async def record(self, number: str, word: str, note: str, user_id: int, user_name: str,
                     chat_id: int) -> Outcome:
        rating = WORDS.get(word)
        if rating is None:
            return Outcome(False, "callback_usage")
        now = self.clock.now()

        def tx(session: Session) -> Outcome:
            case = session.scalar(select(Case).where(Case.number == number.upper()))
            if case is None:
                return Outcome(False, "case_not_found")
            CoreBase.trace(session, case.id, now, "callback", "command", user_id, chat_id, rating=rating,
                           note=note[:500], by=user_name[:128], via="phone")
            if may(Action.LATE_RATING, case.state) and case.rating == "none":  # closed unrated: the call rates it
                case.state, case.closed_at, case.rating = target(Action.LATE_RATING), None, None
            return Outcome(True, "callback_saved", case)
        outcome = await self.db.write(tx)
        if not outcome.ok or not may(Action.CLOSE, outcome.case.state):
            return outcome  # a case being reopened keeps its course: the call is in its trace
        rated = await self.rate(outcome.case.id, outcome.case.reporter_id, rating, via="phone")
        return Outcome(True, "callback_saved" if rated.ok else rated.key, rated.case)

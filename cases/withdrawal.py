"""A citizen withdraws a report that no street has accepted yet (撤回).

Once a handler has taken a case, people are working on it: it goes on, and the citizen's verdict
comes with the rating. Before that, the reporter may pull it back: the case ends as `withdrawn`
(its deadlines cancelled, a `withdrawn` event in the trace) and the group's card loses its buttons.
Its photos then follow the retention of closed cases (storage/retention.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.states import Action, allowed, target
from cases.states import DeadlineStatus as DS
from storage.models import Case, Deadline, Event
from storage.outbox import enqueue


@dataclass
class Withdrawn:
    key: str  # withdrawn | withdraw_too_late | case_not_found
    number: str


class Withdrawal:
    def __init__(self, db, clock, settings, directory, outbox_written: Callable[[], None]):
        self.db, self.clock, self.settings, self.outbox_written = db, clock, settings, outbox_written
        self.directory = directory  # cases/directory.py

    async def withdraw(self, number: str, user_id: int, chat_id: int) -> Withdrawn:
        now = self.clock.now()

        def tx(session: Session) -> Withdrawn:
            case = session.scalar(select(Case).where(Case.number == number.upper()))
            if case is None or case.reporter_id != user_id:  # another citizen's number: as if unknown
                return Withdrawn("case_not_found", number)
            # The WHERE on state settles a race with a handler's Accept: one of the two wins.
            won = session.execute(update(Case).where(Case.id == case.id, Case.state.in_(allowed(Action.WITHDRAW)))
                                  .values(state=target(Action.WITHDRAW), closed_at=now, updated_at=now)).rowcount
            if not won:
                return Withdrawn("withdraw_too_late", case.number)
            session.execute(update(Deadline).where(Deadline.case_id == case.id, Deadline.status == DS.OPEN)
                            .values(status=DS.CANCELLED, closed_at=now, next_at=None))
            session.add(Event(case_id=case.id, at=now, kind="withdrawn", actor_role="citizen", actor_id=user_id,
                              chat_id=chat_id, data={}))
            session.refresh(case)
            owner = self.directory.owner_chat(case)
            if owner:
                enqueue(session, now, owner, "refresh_card", case.id, card="street")
            if self.settings.command_chat:  # a routing card, if the case was waiting there
                enqueue(session, now, self.settings.command_chat, "refresh_card", case.id, card="routing")
            return Withdrawn("withdrawn", case.number)
        result = await self.db.write(tx)
        if result.key == "withdrawn":
            self.outbox_written()
        return result

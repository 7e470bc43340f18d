"""What happens to a case after intake: manual routing, acceptance, and reading it back."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import Outcome, Service
from cases.states import Action, allowed, target
from cases.states import DeadlineKind as Kind
from cases.states import DeadlineStatus as DS
from storage import prepared
from storage.models import Card, Case, Deadline, Event
from storage.outbox import enqueue


class Lifecycle(Service):
    """Reading cases back, acceptance, manual routing and 不属于本街道."""

    async def load_case(self, case_id: int) -> Case | None:
        return await self._case_with_parts(prepared.CASE, {"case": case_id})

    async def case_by_number(self, number: str) -> Case | None:
        return await self._case_with_parts(prepared.CASE_NUMBERED, {"number": number.upper()})

    async def _case_with_parts(self, statement, params: dict) -> Case | None:
        """One case with its photos and deadlines (joined: the rows repeat, hence unique())."""
        async with self.sessions() as session:
            return (await session.execute(statement, params)).unique().scalar_one_or_none()

    async def cases_of(self, reporter_id: int, limit: int = 20) -> list[Case]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Case).where(Case.reporter_id == reporter_id)
                                         .order_by(Case.id.desc()).limit(limit))
            return list(rows)

    async def timeline(self, case_id: int) -> list[Event]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.id)))

    async def returned_by(self, case_id: int) -> str | None:
        """The street that last handed the case back as not its own, if any."""
        async with self.sessions() as session:
            event = await session.scalar(select(Event).where(Event.case_id == case_id, Event.kind == "not_ours",
                                                             Event.actor_role == "handler")
                                         .order_by(Event.id.desc()).limit(1))
        return event.data.get("street") if event else None

    async def card_at(self, chat_id: int, message_id: int) -> Card | None:
        async with self.sessions() as session:
            return await session.scalar(select(Card).where(Card.chat_id == chat_id, Card.message_id == message_id))

    async def cards_of(self, case_id: int) -> list[Card]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Card).where(Card.case_id == case_id)))

    async def accept(self, case_id: int, user_id: int, user_name: str, chat_id: int) -> Outcome:
        """The first member of the street's group to tap Accept becomes the handler."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if self.directory.owner_chat(case) != chat_id:
                return Outcome(False, "not_your_group", case)
            # The WHERE on state makes a double tap, or two members at once, accept only once.
            won = session.execute(
                update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.ACCEPT)))
                .values(state=target(Action.ACCEPT), handler_id=user_id, handler_name=user_name[:128],
                        accepted_at=now, updated_at=now)).rowcount
            session.refresh(case)
            if not won:
                return Outcome(False, "already_yours" if case.handler_id == user_id else "already_taken", case)
            # Accepting answers the dispatch and names the person in charge (响应 and 交办 at once).
            session.execute(update(Deadline).where(
                Deadline.case_id == case_id, Deadline.kind.in_((Kind.RESPOND, Kind.ASSIGN)), Deadline.status == DS.OPEN)
                .values(status=DS.MET, closed_at=now))
            self.trace(session, case_id, now, "accepted", "handler", user_id, chat_id, street=case.street)
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            enqueue(session, now, case.reporter_id, "notice", case_id, key="accepted", lang=case.reporter_lang,
                    args={"number": case.number, "street": case.grid or case.street})
            return Outcome(True, "accepted", case)
        return await self.write(tx)

    async def route_manually(self, case_id: int, street: str, user_id: int, chat_id: int) -> Outcome:
        """The command centre hands a case from outside every polygon to a street."""
        now = self.now()
        if chat_id != self.settings.command_chat:
            return Outcome(False, "not_your_group")
        street_chat = self.directory.street_chats.get(street)
        if street_chat is None:
            return Outcome(False, "street_unbound")

        def tx(session: Session) -> Outcome:
            won = session.execute(
                update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.ROUTE)))
                .values(state=target(Action.ROUTE), street=street, routed_by="manual", updated_at=now)).rowcount
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if not won:
                return Outcome(False, "already_routed", case)
            self.trace(session, case_id, now, "routed", "command", user_id, chat_id, street=street, how="manual")
            enqueue(session, now, street_chat, "street_card", case_id)
            enqueue(session, now, street_chat, "refresh_card", case_id, card="street")  # a card left by a street
            enqueue(session, now, chat_id, "refresh_card", case_id, card="routing")
            return Outcome(True, "routed", case)
        return await self.write(tx)

    async def not_ours(self, case_id: int, user_id: int, chat_id: int, reason: str = "") -> Outcome:
        """The street says the place is not its own: back to the command centre, which assigns again."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None:
                return Outcome(False, "stale")
            if self.directory.owner_chat(case) != chat_id:
                return Outcome(False, "not_your_group", case)
            street = case.street  # the UPDATE below clears it on the loaded object too
            won = session.execute(update(Case).where(Case.id == case_id, Case.state.in_(allowed(Action.HAND_BACK)))
                                  .values(state=target(Action.HAND_BACK), street=None, grid=None, routed_by="pending",
                                          handler_id=None, handler_name=None, updated_at=now)).rowcount
            if not won:
                return Outcome(False, "wrong_state", case)
            reason_ = reason.strip()[:500]
            self.trace(session, case_id, now, "not_ours", "handler", user_id, chat_id, street=street,
                       reason=reason_)
            enqueue(session, now, chat_id, "refresh_card", case_id, card="street")
            if self.settings.command_chat:
                enqueue(session, now, self.settings.command_chat, "notice", case_id, key="c_returned",
                        lang=self.settings.group_lang, args={"number": case.number, "street": street or "",
                                                             "reason": reason_ or "—"})
                enqueue(session, now, self.settings.command_chat, "routing_card", case_id)
            session.refresh(case)
            return Outcome(True, "not_ours_done", case)
        return await self.write(tx)

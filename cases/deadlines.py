"""Deadlines that bite: early warning, lapse, then up the chain (经办 → 分管领导 → 主责领导 → 指挥中心).

The database is the only truth. Firing claims a deadline row with a conditional UPDATE on the
state it was read in, and writes the nag (outbox) and the trace event in the same transaction:
two processes on one database fire each step once, and a crash after the claim loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import Service
from cases.people import Person
from cases.stats import CENTRE
from cases.verification import verifier_chat
from storage import prepared
from storage.models import Call, Case, Deadline
from storage.outbox import enqueue

LEVELS = {1: "lapsed", 2: "deputy", 3: "chief", 4: "command"}
BATCH = 500


class Owner(NamedTuple):
    """Who owns a deadline: `chain` names the unit in settings.chains (a street, a department's 中文名,
    CENTRE); `kind` and `key` name it for the words (street name or CENTRE, department key)."""
    chain: str
    kind: str  # street | department
    key: str
    chat: int | None
    person: Person | None  # the one responsible, when there is one


class Deadlines(Service):
    """Firing warnings, lapses and escalations as their times come."""

    def __init__(self, base, mark_difficult):
        super().__init__(base)
        self.mark_difficult = mark_difficult  # the escalations' (a lapse at the top of its chain)

    async def fire_due(self) -> int:
        """Fire every warning, lapse and escalation whose time has come. Returns how many fired."""
        now = self.now()
        fired = 0
        while True:
            n = await self.db.write(self._fire_batch, now)
            fired += n
            if n < BATCH:
                break
        if fired:
            self.wake_outbox()
        return fired

    async def next_deadline_at(self) -> datetime | None:
        async with self.sessions() as session:
            return await session.scalar(prepared.NEXT_DEADLINE)

    def _fire_batch(self, session: Session, now: datetime) -> int:
        rows = session.scalars(select(Deadline).where(
            Deadline.status == "open", Deadline.next_at <= now, Deadline.kind != "rating")
            .order_by(Deadline.next_at).limit(BATCH)).all()
        fired = 0
        for d in rows:
            level, warned, steps, skip = d.level, d.warned, [], False
            while True:  # a bot that was down may owe several steps: each is sent once, in order
                if not warned and now < d.due_at:
                    warned, step = True, 0
                elif level < len(self.settings.escalate_after) and \
                        (skip or now >= d.due_at + self.settings.escalate_after[level]):
                    warned, level, step = True, level + 1, level + 1
                else:
                    break
                steps.append(step)
                skip = step in (2, 3) and self._leader_missing(session, d, step)  # on to the next level now
            next_at = self._next_at(d.due_at, warned, level)
            claimed = session.execute(update(Deadline).where(
                Deadline.id == d.id, Deadline.status == "open", Deadline.level == d.level,
                Deadline.warned == d.warned).values(level=level, warned=warned, next_at=next_at)).rowcount
            if not claimed:  # another process got there first
                continue
            for step in steps:
                self._announce(session, d, step, now)
                fired += 1
        return len(rows) if len(rows) == BATCH else fired

    def _leader_missing(self, session: Session, d: Deadline, step: int) -> bool:
        unit = self._unit_of(session, d, session.get(Case, d.case_id)).chain
        return self.settings.chains.get(unit, {}).get("deputy" if step == 2 else "chief") is None

    def _next_at(self, due: datetime, warned: bool, level: int) -> datetime | None:
        if not warned:
            return due
        if level < len(self.settings.escalate_after):
            return due + self.settings.escalate_after[level]
        return None  # the top of the chain: nothing more to fire

    def _unit_of(self, session: Session, d: Deadline, case: Case) -> Owner:
        """Who owns a deadline, its group, and the person responsible."""
        if d.call_id is not None:
            call = session.get(Call, d.call_id)
            return Owner(self.settings.department_name(call.department), "department", call.department,
                         self.directory.department_chat(call.department), None)
        chat = self.directory.owner_chat(case) if case.street else self.settings.command_chat
        if d.kind == "verify":  # the verifiers' group (a grid's, or the street's); the street's chain above it
            chat = verifier_chat(self.settings, self.directory, self.grids, case) or chat
        person = Person(case.handler_name, case.handler_id) if case.handler_id and d.kind != "verify" else None
        return Owner(case.street or CENTRE, "street", case.street or CENTRE, chat, person)

    def _tracker_of(self, session: Session, d: Deadline) -> int | None:
        """A city unit's call deadline is also told to the district department tracking it."""
        if d.call_id is None:
            return None
        call = session.get(Call, d.call_id)
        return self.directory.tracker_chat(call.department)

    def _announce(self, session: Session, d: Deadline, step: int, now: datetime) -> None:
        case = session.get(Case, d.case_id)
        owner = self._unit_of(session, d, case)
        unit, chat, person = owner.chain, owner.chat, owner.person
        tracker = self._tracker_of(session, d)
        chain = self.settings.chains.get(unit, {})
        # Data for the words (ui/): the unit by kind and key, the time as it is; the reader's language
        # names them (an English group reads the street's English name, the due time in the district's zone).
        args = {"number": case.number, "unit": owner.key, "unit_kind": owner.kind, "what": d.kind,
                "due": d.due_at.isoformat(), "minutes": max(0, int((now - d.due_at).total_seconds() // 60))}
        lang = self.settings.group_lang
        if step == 0:
            self.trace(session, case.id, now, "warned", "system", deadline=d.label, unit=unit)
            for group in (chat, tracker):
                if group:
                    enqueue(session, now, group, "notice", case.id, key="dl_warn", lang=lang, args=args)
            return
        to = person if step == 1 else chain.get("deputy" if step == 2 else "chief") if step < 4 else None
        self.trace(session, case.id, now, "lapsed" if step == 1 else "escalated", "system", deadline=d.label,
                   unit=unit, level=LEVELS[step], to=to.name if to else None)
        if step in (2, 3) and to is None:  # the unit has no such leader: say so; the next level follows at once
            for group in (chat, tracker):
                if group:
                    enqueue(session, now, group, "notice", case.id, key=f"dl_no_leader{step}", lang=lang, args=args)
            return
        if step < 4:
            name = to.name if to else None  # None: the unit itself is called on, by its name
            mention = {"mention_id": to.user_id} if to and to.user_id else {}  # rendered as a tg://user mention
            for group in (chat, tracker):
                if group:
                    enqueue(session, now, group, "notice", case.id, key=f"dl_level{step}", lang=lang,
                            args={**args, "name": name, **mention})
            if to and to.user_id:
                enqueue(session, now, to.user_id, "notice", case.id, key="dl_private", lang=lang, args=args)
            return
        # The top of the chain: the command centre and the week's duty leaders; a difficult case (疑难件).
        self.mark_difficult(session, case, now, {"why": "top_of_chain", "unit": owner.key, "unit_kind": owner.kind,
                                                 "what": d.kind})
        if self.settings.command_chat:
            enqueue(session, now, self.settings.command_chat, "notice", case.id, key="dl_level4", lang=lang, args=args)
        for _name, user_id in self.settings.duty_on(now, case.street):
            enqueue(session, now, user_id, "notice", case.id, key="dl_private", lang=lang, args=args)

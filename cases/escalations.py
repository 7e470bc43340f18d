"""Extensions (延期) and difficult cases (疑难件): the two ways a deadline or a case leaves the routine.

An extension moves one deadline, with a reason, once someone allowed to approves it: the calling
street for a call's check-in, the duty leaders (or the command centre) for a street's own deadline;
at most `max_extensions` per deadline. A difficult case goes to the week's duty leaders, whose
choice of the responsible unit is binding and recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cases.core import Outcome, Service
from cases.rounds import moved_on
from cases.states import Action, DeadlineKind, may, target
from storage.models import Call, Case, Deadline, Event, Extension
from storage.outbox import enqueue

EXTEND_BY = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1wd": None}


class Escalations(Service):
    """Extensions and difficult cases."""

    # ---- extensions -----------------------------------------------------------------------------
    async def ask_extension(self, target: str, target_id: int, option: str, user_id: int, user_name: str,
                            chat_id: int) -> Outcome:
        """Step 1: which deadline, and to when. The reason comes next, as a reply (give_reason)."""
        if option not in EXTEND_BY or target not in ("call", "case", "onsite"):
            return Outcome(False, "stale")
        now = self.now()

        def tx(session: Session) -> Outcome:
            if target == "call":
                call = session.get(Call, target_id)
                if call is None or self.directory.department_chat(call.department) != chat_id:
                    return Outcome(False, "not_your_group")
                case, kind, call_id = session.get(Case, call.case_id), DeadlineKind.CHECKIN, call.id
            else:
                # the case's own deadlines: its resolution, or its on-site arrival (limits.checkin)
                case, kind, call_id = session.get(Case, target_id), "checkin" if target == "onsite" else "resolve", None
                if case is None or self.directory.owner_chat(case) != chat_id:
                    return Outcome(False, "not_your_group")
            deadline = session.scalar(select(Deadline).where(
                Deadline.case_id == case.id, Deadline.kind == kind, Deadline.status == "open",
                Deadline.belongs_to(call_id)))
            if deadline is None:
                return Outcome(False, "no_deadline", case)
            used = session.scalar(select(func.count(Extension.id)).where(
                Extension.deadline_id == deadline.id, Extension.status == "approved"))
            if used >= self.settings.max_extensions:
                return Outcome(False, "too_many_extensions", case)
            base = max(deadline.due_at, now)
            step = EXTEND_BY[option]
            new_due = base + step if step else self.settings.calendar.add_workdays(
                base.astimezone(self.settings.tz), 1).astimezone(base.tzinfo)
            ext = Extension(deadline_id=deadline.id, case_id=case.id, requested_by=user_id,
                            requested_by_name=user_name[:128], requested_at=now, new_due=new_due, status="asking")
            session.add(ext)
            session.flush()
            return Outcome(True, "ask_reason", case, extension_id=ext.id)
        return await self.db.write(tx)

    async def set_extension_prompt(self, extension_id: int, chat_id: int, message_id: int) -> None:
        def tx(session: Session) -> None:
            session.execute(update(Extension).where(Extension.id == extension_id)
                            .values(prompt_chat=chat_id, prompt_message=message_id))
        await self.db.write(tx)

    async def give_reason(self, chat_id: int, prompt_message: int, text: str) -> Outcome | None:
        """Step 2: the reply to the prompt is the reason; the request goes to whoever may approve it."""
        now = self.now()

        def tx(session: Session) -> Outcome | None:
            ext = session.scalar(select(Extension).where(Extension.prompt_chat == chat_id,
                                                         Extension.prompt_message == prompt_message))
            if ext is None:
                return None
            if ext.status != "asking":
                return Outcome(False, "already_asked")
            ext.reason, ext.status = text[:500], "pending"
            deadline, case = session.get(Deadline, ext.deadline_id), session.get(Case, ext.case_id)
            self.trace(session, case.id, now, "extension_asked", "department" if deadline.call_id else "handler",
                       ext.requested_by, chat_id, deadline=deadline.label, new_due=ext.new_due.isoformat(),
                       reason=ext.reason)
            for approver in self._approvers(case, deadline):
                enqueue(session, now, approver, "extension_request", case.id, extension_id=ext.id,
                        round=case.reopen_count)
            return Outcome(True, "extension_sent", case)
        outcome = await self.db.write(tx)
        if outcome and outcome.ok:
            self.wake_outbox()
        return outcome

    def _approvers(self, case: Case, deadline: Deadline) -> list[int]:
        if deadline.call_id:  # a call's deadline: the street that called decides
            return [self.directory.owner_chat(case)]
        leaders = [uid for _name, uid in self.settings.duty_on(self.now(), case.street)]
        return leaders or ([self.settings.command_chat] if self.settings.command_chat else [])

    def _may_approve(self, case: Case, deadline: Deadline, user_id: int, chat_id: int) -> bool:
        if deadline.call_id:
            return self.directory.owner_chat(case) == chat_id
        return user_id in {uid for _n, uid in self.settings.duty_on(self.now(), case.street)} or \
            chat_id == self.settings.command_chat

    async def decide_extension(self, extension_id: int, approve: bool, user_id: int, user_name: str,
                               chat_id: int, round_: int | None = None) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome:
            ext = session.get(Extension, extension_id)
            if ext is None:
                return Outcome(False, "stale")
            deadline, case = session.get(Deadline, ext.deadline_id), session.get(Case, ext.case_id)
            if not self._may_approve(case, deadline, user_id, chat_id):
                return Outcome(False, "not_your_group", case)
            if moved_on(case, round_):
                return Outcome(False, "old_round", case)
            won = session.execute(update(Extension).where(Extension.id == extension_id, Extension.status == "pending")
                                  .values(status="approved" if approve else "refused",
                                          decided_by_name=user_name[:128], decided_at=now)).rowcount
            if not won:
                return Outcome(False, "already_decided", case)
            if approve:
                # The deadline starts over at its new time: no warning owed, no level reached.
                deadline.due_at, deadline.next_at, deadline.level, deadline.warned = ext.new_due, ext.new_due, 0, True
                if deadline.call_id is not None:
                    call = session.get(Call, deadline.call_id)
                    call.checkin_due = ext.new_due
            self.trace(session, case.id, now, "extended" if approve else "extension_refused", "approver", user_id,
                       chat_id, deadline=deadline.label, new_due=ext.new_due.isoformat(), by=user_name,
                       reason=ext.reason)
            args = {"number": case.number, "due": ext.new_due.isoformat(), "name": user_name}
            enqueue(session, now, ext.prompt_chat or chat_id, "notice", case.id,
                    key="ext_approved" if approve else "ext_refused", lang=self.settings.group_lang, args=args)
            return Outcome(True, "ext_done", case)
        return await self.write(tx)

    # ---- difficult cases ------------------------------------------------------------------------
    def mark_difficult(self, session: Session, case: Case, now: datetime, reason: dict, actor_id: int | None = None,
                       chat_id: int | None = None) -> None:
        """Part of the caller's transaction: flag the case and hand it to the duty leaders, once.
        reason: {"why": top_of_chain | handler | reopened_twice | disputed, and what its words need}."""
        self.trace(session, case.id, now, "difficult", "handler" if actor_id else "system", actor_id, chat_id,
                   reason=reason)
        if case.difficult:
            return
        case.difficult = True
        if self.settings.command_chat:
            enqueue(session, now, self.settings.command_chat, "difficult_card", case.id, reason=reason)
        for _name, uid in self.settings.duty_on(now, case.street):  # that day's district and street leaders
            enqueue(session, now, uid, "difficult_card", case.id, reason=reason)

    async def flag_difficult(self, case_id: int, user_id: int, chat_id: int) -> Outcome:
        """A handler marks the case: responsibility unclear, or it keeps failing."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or self.directory.owner_chat(case) != chat_id:
                return Outcome(False, "not_your_group", case)
            if case.difficult:
                return Outcome(False, "already_difficult", case)
            self.mark_difficult(session, case, now, {"why": "handler"}, user_id, chat_id)
            return Outcome(True, "difficult_sent", case)
        return await self.write(tx)

    async def assign_difficult(self, case_id: int, unit: str, user_id: int, user_name: str, chat_id: int) -> Outcome:
        """A duty leader names the responsible unit: a street takes the case over, a department is called."""
        now = self.now()

        def tx(session: Session) -> Outcome:
            case = session.get(Case, case_id)
            if case is None or not case.difficult or not may(Action.ASSIGN, case.state):
                return Outcome(False, "stale")
            leaders = {uid for _n, uid in self.settings.duty_on(now, case.street)}  # on duty today
            if not (user_id in leaders or (not leaders and chat_id == self.settings.command_chat)):
                return Outcome(False, "not_duty_leader")
            if self._assigned(session, case_id):
                return Outcome(False, "already_assigned", case)
            if unit in self.directory.street_chats:
                case.street, case.grid, case.state, case.routed_by = unit, None, target(Action.ASSIGN), "manual"
                case.handler_id = case.handler_name = case.accepted_at = None
                case.updated_at = now
                self.open_deadline(session, case_id, "respond", now, now + timedelta(minutes=10))
                enqueue(session, now, self.directory.street_chats[unit], "street_card", case_id)
            elif unit in self.settings.departments:
                call = Call(case_id=case_id, department=unit, status="pending", lat=case.lat, lon=case.lon,
                            checkin_due=now + timedelta(hours=1), called_by=user_id, called_by_name=user_name[:128],
                            created_at=now)
                session.add(call)
                session.flush()
                self.open_call_deadlines(session, call, now)
                if dept_chat := self.directory.department_chat(unit):
                    enqueue(session, now, dept_chat, "call_card", case_id, call_id=call.id)
            else:
                return Outcome(False, "stale", case)
            self.trace(session, case_id, now, "assigned", "duty_leader", user_id, chat_id, unit=unit, by=user_name,
                       binding=True)  # the duty leader's decision binds the unit (words: ui/texts)
            for to_chat in {self.settings.command_chat, chat_id} - {None}:
                enqueue(session, now, to_chat, "notice", case_id, key="assigned", lang=self.settings.group_lang,
                        args={"number": case.number, "unit": unit, "name": user_name,
                              "unit_kind": "street" if unit in self.directory.street_chats else "department"})
            return Outcome(True, "assigned_tap", case)
        return await self.write(tx)

    def _assigned(self, session: Session, case_id: int) -> bool:
        return bool(session.scalar(select(func.count(Event.id)).where(Event.case_id == case_id,
                                                                       Event.kind == "assigned")))

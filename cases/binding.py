"""One-time codes: bind a group to its street, department or grid cell, or register a grid worker.
Issue 11: codes expire and are throttled (cases/bindguard.py); a bind that would move a unit away from
its group waits for the command centre; the command centre unbinds groups and revokes grid workers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases import bindguard
from cases.core import Outcome, Settings
from cases.directory import Directory
from storage.models import BindCode, Binding, BindRequest, Draft, GridWorker
from storage.outbox import enqueue

KINDS = ("street", "department", "grid", "worker")  # worker: used in a private chat
new_code = bindguard.new_code  # `python -m bot bind-code` (bot/app.py)


class Bindings:
    """A service of the database, the clock, the settings and the directory (which it keeps up to date
    in this process; other processes read the rows). `committed` wakes the outbox after a write that
    sent something."""

    def __init__(self, db, clock, settings: Settings, directory: Directory, committed: Callable[[], None]):
        self.db, self.sessions, self.clock, self.settings = db, db.sessions, clock, settings
        self.directory, self.committed = directory, committed

    def now(self) -> datetime:
        return self.clock.now()

    async def load(self) -> None:
        """At start: bindings made with /bind (or removed with /unbind) win over config.yaml's chat ids.
        Later reads happen by themselves (cases/directory.py)."""
        await self.db.write(self.directory.load)

    def bound_chat(self, kind: str, target: str) -> int | None:
        return self.directory.chat_of(kind, target)

    def unit_name(self, kind: str, target: str) -> str:
        return self.settings.department_name(target) if kind == "department" else target

    @staticmethod
    def _store_binding(session: Session, kind: str, target: str, chat_id: int | None, user_id: int, now) -> None:
        binding = session.scalar(select(Binding).where(Binding.kind == kind, Binding.target == target))
        if binding is None:
            session.add(Binding(kind=kind, target=target, chat_id=chat_id, bound_at=now, bound_by=user_id))
        else:
            binding.chat_id, binding.bound_at, binding.bound_by = chat_id, now, user_id

    async def bind(self, code: str, chat_id: int, user_id: int, private: bool = False, admin: bool = True) -> Outcome:
        """A group code in a group binds that group (or, when the unit has another group, asks the command
        centre); a worker code in a private chat registers the sender. `admin`: the sender is the group's
        creator or an administrator (the caller asked Telegram); only they may bind a group."""
        now, code = self.now(), code.strip().upper()

        def tx(session: Session) -> Outcome:
            if bindguard.throttled(session, chat_id, user_id, now):
                return Outcome(False, "bind_throttled")
            row = session.get(BindCode, code) if len(code) <= 16 else None
            if not bindguard.usable(row, now, self.settings.bind_code_ttl):
                bindguard.record_failure(session, chat_id, user_id, now)
                return Outcome(False, "bad_code")
            if (row.kind == "worker") != private:
                return Outcome(False, "code_private" if row.kind == "worker" else "code_group")
            if not private and not admin:  # the code stays usable: an administrator may send it
                return Outcome(False, "bind_admin_only")
            old = None if row.kind == "worker" else self.bound_chat(row.kind, row.target)
            if old is not None and old != chat_id and self.settings.command_chat is None:
                return Outcome(False, "rebind_no_command", bound=(row.kind, row.target))
            used = session.execute(update(BindCode).where(BindCode.code == code, BindCode.used_at.is_(None))
                                   .values(used_at=now, used_chat=chat_id)).rowcount
            if not used:
                return Outcome(False, "bad_code")
            if row.kind == "worker":
                session.merge(GridWorker(user_id=user_id, grid=row.target, registered_at=now, revoked_at=None,
                                         revoked_by=None))
                return Outcome(True, "bound", bound=(row.kind, row.target))
            if old is not None and old != chat_id:  # moving the unit away from its group: the command centre decides
                request = BindRequest(kind=row.kind, target=row.target, chat_id=chat_id, old_chat=old,
                                      requested_by=user_id, created_at=now, status="pending")
                session.add(request)
                session.flush()
                return Outcome(True, "rebind_asked", bound=(row.kind, row.target), request_id=request.id)
            self._store_binding(session, row.kind, row.target, chat_id, user_id, now)
            return Outcome(True, "bound", bound=(row.kind, row.target))
        outcome = await self.db.write(tx)
        if outcome.key == "bound":
            kind, target = outcome.bound
            if kind == "worker":
                self.directory.register(user_id, target)
            else:
                self.directory.bind(kind, target, chat_id)
        return outcome

    async def decide_rebind(self, request_id: int, approve: bool, user_id: int, chat_id: int) -> Outcome:
        """The command centre confirms or refuses moving a unit to another group; both groups and the
        command centre are told."""
        now, lg = self.now(), self.settings.group_lang
        if chat_id != self.settings.command_chat:
            return Outcome(False, "not_your_group")
        moved: list[int] = []  # the new group, once confirmed

        def tx(session: Session) -> Outcome:
            req = session.get(BindRequest, request_id)
            if req is None or (req.status == "pending" and now - req.created_at > self.settings.bind_code_ttl):
                return Outcome(False, "stale")  # an old request is not confirmed by a late tap: bind again
            won = session.execute(update(BindRequest).where(BindRequest.id == request_id,
                                                            BindRequest.status == "pending").values(
                status="confirmed" if approve else "refused", decided_by=user_id, decided_at=now)).rowcount
            if not won:
                return Outcome(False, "already_decided")
            args = {"name": self.unit_name(req.kind, req.target), "chat": req.chat_id, "old": req.old_chat or "—"}
            if approve:
                self._store_binding(session, req.kind, req.target, req.chat_id, req.requested_by, now)
                moved.append(req.chat_id)
                enqueue(session, now, req.chat_id, "notice", key="bound", lang=lg, args={"name": args["name"]})
                if req.old_chat:
                    enqueue(session, now, req.old_chat, "notice", key="rebind_old_group", lang=lg, args=args)
            else:
                enqueue(session, now, req.chat_id, "notice", key="rebind_refused", lang=lg, args=args)
            enqueue(session, now, chat_id, "notice", key="rebind_done" if approve else "rebind_refused_cc",
                    lang=lg, args=args)
            return Outcome(True, "rebind_confirmed" if approve else "rebind_declined",
                           bound=(req.kind, req.target), request_id=req.id)
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.committed()
            if moved:
                self.directory.bind(*outcome.bound, moved[0])
        return outcome

    async def unbind(self, kind: str, target: str, user_id: int, chat_id: int) -> Outcome:
        """/unbind in the command centre: the unit has no group until a new /bind (config.yaml's id too)."""
        now, lg = self.now(), self.settings.group_lang
        if chat_id != self.settings.command_chat:
            return Outcome(False, "not_your_group")
        if not self.directory.knows(kind, target):
            return Outcome(False, "unbind_unknown")
        old = self.bound_chat(kind, target)

        def tx(session: Session) -> Outcome:
            self._store_binding(session, kind, target, None, user_id, now)
            args = {"name": self.unit_name(kind, target), "old": old or "—"}
            if old:
                enqueue(session, now, old, "notice", key="unbound_old_group", lang=lg, args=args)
            return Outcome(True, "unbound", bound=(kind, target))
        outcome = await self.db.write(tx)
        self.committed()
        self.directory.bind(kind, target, None)
        return outcome

    async def revoke_worker(self, worker_id: int, user_id: int | None = None, chat_id: int | None = None) -> Outcome:
        """A grid worker loses the fast flow and their grid at once (`/revoke ID` in the command centre,
        `python -m bot revoke worker ID`); an open draft of theirs goes on as a citizen's."""
        now = self.now()
        if chat_id is not None and chat_id != self.settings.command_chat:
            return Outcome(False, "not_your_group")

        def tx(session: Session) -> Outcome:
            grid = bindguard.revoke(session, worker_id, self.directory.grid_workers.get(worker_id), user_id, now)
            if grid is None:
                return Outcome(False, "not_a_worker")
            draft = session.get(Draft, worker_id)
            if draft is not None and draft.data.get("fast"):
                draft.data = {k: v for k, v in draft.data.items() if k != "fast"}
            return Outcome(True, "worker_revoked", bound=("worker", grid))
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.directory.drop_worker(worker_id)
        return outcome

    def active_grid(self, session: Session, user_id: int) -> str | None:
        """In a transaction: the grid a report is credited to (none once revoked)."""
        grid = self.directory.grid_workers.get(user_id)
        return None if grid is None or bindguard.revoked(session, user_id) else grid

    async def worker_grid(self, user_id: int) -> str | None:
        """The grid of an active grid worker; a revocation made by another process counts at once."""
        grid = self.directory.grid_workers.get(user_id)
        if grid is None:
            return None
        async with self.sessions() as session:
            gone = await session.scalar(select(GridWorker.revoked_at).where(GridWorker.user_id == user_id))
        if gone is not None:
            self.directory.drop_worker(user_id)
            return None
        return grid

"""One-time codes: bind a group to its street, department or grid cell, or register a grid worker."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import CoreBase
from cases.lifecycle import Outcome
from storage.models import BindCode, Binding, GridWorker

KINDS = ("street", "department", "grid", "worker")  # worker: used in a private chat


def new_code(session: Session, kind: str, target: str, now: datetime) -> str:
    code = secrets.token_hex(4).upper()  # 8 hex characters: enough for codes that are used once, soon
    session.add(BindCode(code=code, kind=kind, target=target, created_at=now))
    return code


class BindingMixin(CoreBase):
    async def load_bindings(self) -> None:
        """At start: bindings made with /bind win over config.yaml's chat ids."""
        async with self.sessions() as session:
            for b in await session.scalars(select(Binding)):
                self._apply_binding(b.kind, b.target, b.chat_id)
            for w in await session.scalars(select(GridWorker)):
                if w.grid in self.settings.grid_chats:
                    self.settings.grid_workers[w.user_id] = w.grid

    def _apply_binding(self, kind: str, target: str, chat_id: int) -> None:
        if kind == "street" and target in self.settings.street_chats:
            self.settings.street_chats[target] = chat_id
        elif kind == "department" and target in self.settings.departments:
            zh, en, _old = self.settings.departments[target]
            self.settings.departments[target] = (zh, en, chat_id)
        elif kind == "grid" and target in self.settings.grid_chats:
            self.settings.grid_chats[target] = chat_id

    async def bind(self, code: str, chat_id: int, user_id: int, private: bool = False) -> Outcome:
        """A group code in a group binds that group; a worker code in a private chat registers the sender."""
        now = self.now()

        def tx(session: Session) -> Outcome | tuple:
            row = session.get(BindCode, code.upper())
            if row is not None and (row.kind == "worker") != private:
                return Outcome(False, "code_private" if row.kind == "worker" else "code_group")
            used = session.execute(update(BindCode).where(BindCode.code == code.upper(), BindCode.used_at.is_(None))
                                   .values(used_at=now, used_chat=chat_id)).rowcount
            if not used:
                return Outcome(False, "bad_code")
            if row.kind == "worker":
                session.merge(GridWorker(user_id=user_id, grid=row.target, registered_at=now))
                return row.kind, row.target
            binding = session.scalar(select(Binding).where(Binding.kind == row.kind, Binding.target == row.target))
            if binding is None:
                session.add(Binding(kind=row.kind, target=row.target, chat_id=chat_id, bound_at=now, bound_by=user_id))
            else:
                binding.chat_id, binding.bound_at, binding.bound_by = chat_id, now, user_id
            return row.kind, row.target
        result = await self.db.write(tx)
        if isinstance(result, Outcome):
            return result
        kind, target = result
        if kind == "worker":
            self.settings.grid_workers[user_id] = target
        else:
            self._apply_binding(kind, target, chat_id)
        return Outcome(True, "bound", bound=(kind, target))

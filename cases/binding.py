"""Binding a group to its street or department with a one-time code (so ids need not be typed)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.core import CoreBase
from cases.lifecycle import Outcome
from storage.models import BindCode, Binding

KINDS = ("street", "department")


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

    def _apply_binding(self, kind: str, target: str, chat_id: int) -> None:
        if kind == "street" and target in self.settings.street_chats:
            self.settings.street_chats[target] = chat_id
        elif kind == "department" and target in self.settings.departments:
            zh, en, _old = self.settings.departments[target]
            self.settings.departments[target] = (zh, en, chat_id)

    async def bind(self, code: str, chat_id: int, user_id: int) -> Outcome:
        now = self.now()

        def tx(session: Session) -> Outcome | tuple:
            used = session.execute(update(BindCode).where(BindCode.code == code.upper(), BindCode.used_at.is_(None))
                                   .values(used_at=now, used_chat=chat_id)).rowcount
            if not used:
                return Outcome(False, "bad_code")
            row = session.get(BindCode, code.upper())
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
        self._apply_binding(kind, target, chat_id)
        return Outcome(True, "bound", bound=(kind, target))

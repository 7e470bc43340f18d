"""Which group serves which unit and which user works which grid cell: config.yaml's ids with the
bindings of /bind, /unbind and /revoke over them, read from the database.

Every process holds one Directory (the bot, each replica, the API). Its view is read again when it is
older than `max_age`: at the start of any write transaction (storage.db.Database.before_write), so what a
transaction routes or checks uses a binding made in another process, and by the bot every `max_age`
(a button's membership check reads no transaction). A binding made in this process counts at once.
The maps are replaced, never changed in place, by a reload: the event loop reads them while the
database's writer thread reloads them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Binding, GridWorker

UNITS = ("street", "department", "grid")


class Directory:
    def __init__(self, settings, clock, max_age: timedelta = timedelta(seconds=10)):
        self._settings, self._clock, self.max_age = settings, clock, max_age
        self.loaded_at = None
        self.street_chats, self.department_chats, self.grid_chats, self.grid_workers = self._configured()

    def _configured(self) -> tuple[dict, dict, dict, dict]:
        s = self._settings
        return (dict(s.street_chats), {k: d.chat for k, d in s.departments.items()}, dict(s.grid_chats),
                dict(s.grid_workers))

    # ---- reading the database ------------------------------------------------------------------------
    def load(self, session: Session) -> None:
        """config.yaml's ids, then every binding made since (a /unbind is a binding to no group), then
        the grid workers registered by code (a revoked one loses the grid config.yaml gave them too)."""
        streets, departments, grids, workers = self._configured()
        maps = {"street": streets, "department": departments, "grid": grids}
        for b in session.scalars(select(Binding)):
            if b.kind in maps and b.target in maps[b.kind]:
                maps[b.kind][b.target] = b.chat_id
        for w in session.scalars(select(GridWorker)):
            if w.revoked_at is not None:
                workers.pop(w.user_id, None)
            elif w.grid in grids:
                workers[w.user_id] = w.grid
        self.street_chats, self.department_chats, self.grid_chats, self.grid_workers = streets, departments, \
            grids, workers
        self.loaded_at = self._clock.now()

    def refresh(self, session: Session) -> None:
        """load() when the view is older than max_age (a transaction's first step: usually nothing)."""
        if self.loaded_at is None or self._clock.now() - self.loaded_at >= self.max_age:
            self.load(session)

    # ---- what this process just wrote ----------------------------------------------------------------
    def bind(self, kind: str, target: str, chat_id: int | None) -> None:
        maps = {"street": self.street_chats, "department": self.department_chats, "grid": self.grid_chats}
        if kind in maps and target in maps[kind]:
            changed = {**maps[kind], target: chat_id}
            setattr(self, f"{kind}_chats", changed)

    def register(self, user_id: int, grid: str) -> None:
        self.grid_workers = {**self.grid_workers, user_id: grid}

    def drop_worker(self, user_id: int) -> None:
        self.grid_workers = {k: v for k, v in self.grid_workers.items() if k != user_id}

    # ---- lookups ---------------------------------------------------------------------------------------
    def knows(self, kind: str, target: str) -> bool:
        return kind in UNITS and target in getattr(self, f"{kind}_chats")

    def chat_of(self, kind: str, target: str) -> int | None:
        """A unit's group (None: unknown, or no group now)."""
        return getattr(self, f"{kind}_chats").get(target) if kind in UNITS else None

    def street_chat(self, street: str | None) -> int | None:
        return self.street_chats.get(street) if street else None

    def department_chat(self, key: str) -> int | None:
        return self.department_chats.get(key)

    def owner_chat(self, case) -> int | None:
        """The group that handles a case: its grid cell's when a grid category sent it there, else its street's."""
        if case.grid:
            return self.grid_chats.get(case.grid)
        return self.street_chat(case.street)

    def tracker_chat(self, department: str) -> int | None:
        """The group of the district department following a city unit (tracked_by), if any."""
        tracker = self._settings.trackers.get(department)
        return self.department_chat(tracker) if tracker else None

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


class Directory:
    def __init__(self, settings, clock, max_age: timedelta = timedelta(seconds=10)):
        self._settings, self._clock, self.max_age = settings, clock, max_age
        self.loaded_at = None
        self.chats, self.grid_workers = self._configured()  # chats: unit kind -> unit -> its group

    def _configured(self) -> tuple[dict[str, dict], dict]:
        s = self._settings
        return ({"street": dict(s.street_chats), "department": {k: d.chat for k, d in s.departments.items()},
                 "grid": dict(s.grid_chats)}, dict(s.grid_workers))

    @property
    def street_chats(self) -> dict[str, int | None]:
        return self.chats["street"]

    @property
    def department_chats(self) -> dict[str, int | None]:
        return self.chats["department"]

    @property
    def grid_chats(self) -> dict[str, int | None]:
        return self.chats["grid"]

    # ---- reading the database ------------------------------------------------------------------------
    def load(self, session: Session) -> None:
        """config.yaml's ids, then every binding made since (a /unbind is a binding to no group), then
        the grid workers registered by code (a revoked one loses the grid config.yaml gave them too)."""
        chats, workers = self._configured()
        for b in session.scalars(select(Binding)):
            if b.target in chats.get(b.kind, {}):
                chats[b.kind][b.target] = b.chat_id
        for w in session.scalars(select(GridWorker)):
            if w.revoked_at is not None:
                workers.pop(w.user_id, None)
            elif w.grid in chats["grid"]:
                workers[w.user_id] = w.grid
        self.chats, self.grid_workers = chats, workers
        self.loaded_at = self._clock.now()

    def refresh(self, session: Session) -> None:
        """load() when the view is older than max_age (a transaction's first step: usually nothing)."""
        if self.loaded_at is None or self._clock.now() - self.loaded_at >= self.max_age:
            self.load(session)

    # ---- what this process just wrote ----------------------------------------------------------------
    def bind(self, kind: str, target: str, chat_id: int | None) -> None:
        if self.knows(kind, target):
            self.chats = {**self.chats, kind: {**self.chats[kind], target: chat_id}}

    def register(self, user_id: int, grid: str) -> None:
        self.grid_workers = {**self.grid_workers, user_id: grid}

    def drop_worker(self, user_id: int) -> None:
        self.grid_workers = {k: v for k, v in self.grid_workers.items() if k != user_id}

    # ---- lookups ---------------------------------------------------------------------------------------
    def knows(self, kind: str, target: str) -> bool:
        return target in self.chats.get(kind, {})

    def chat_of(self, kind: str, target: str) -> int | None:
        """A unit's group (None: unknown, or no group now)."""
        return self.chats.get(kind, {}).get(target)

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

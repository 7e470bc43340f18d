"""The core's wiring: what every use case needs (database, clock, policy, street index)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases.policy import Category
from cases.workdays import WorkCalendar
from storage.models import Event


@dataclass
class Settings:
    categories: dict[str, Category]
    street_chats: dict[str, int | None]  # street name -> group chat id (None: not bound yet)
    command_chat: int | None
    tz: ZoneInfo
    calendar: WorkCalendar
    case_prefix: str = "GL"
    draft_ttl: timedelta = timedelta(minutes=30)
    max_photos: int = 5
    max_cases_per_hour: int = 10
    service_radius_m: float = 20_000  # farther than this from every street: not our district
    tag_secret: bytes = b"frontline"
    street_names_en: dict[str, str] = field(default_factory=dict)
    departments: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)  # key -> zh, en, chat
    checkin_radius_m: float = 200.0
    call_answer: timedelta = timedelta(minutes=10)
    rating_timeout: timedelta = timedelta(days=3)
    group_lang: str = "zh"


class CoreBase:
    def __init__(self, db, clock, settings: Settings, streets, on_outbox: Callable[[], None] | None = None):
        self.db = db  # storage.db.Database: db.write(fn) runs fn(session) as one transaction
        self.sessions = db.sessions  # async reads
        self.clock = clock
        self.settings = settings
        self.streets = streets  # geo.streets.StreetIndex
        self._on_outbox = on_outbox or (lambda: None)

    def now(self) -> datetime:
        return self.clock.now()

    def outbox_written(self) -> None:
        """Wake the delivery worker after a commit that wrote outbox rows."""
        self._on_outbox()

    def reporter_tag(self, user_id: int) -> str:
        # Stable per citizen (repeat reports are visible) but not reversible to the Telegram id.
        digest = hmac.new(self.settings.tag_secret, str(user_id).encode(), sha256).hexdigest()
        return "R-" + digest[:6].upper()

    @staticmethod
    def trace(session: Session, case_id: int, at: datetime, kind: str, role: str,
              actor_id: int | None = None, chat_id: int | None = None, **data) -> None:
        session.add(Event(case_id=case_id, at=at, kind=kind, actor_role=role, actor_id=actor_id,
                          chat_id=chat_id, data=data))

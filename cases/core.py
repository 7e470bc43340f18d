"""The core's wiring: what every use case needs (database, clock, policy, street index)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from assessment.settings import AssessmentCfg
from cases.directory import Directory
from cases.people import Person
from cases.policy import Category
from cases.rota import Rota
from cases.states import PER_CALL
from cases.workdays import WorkCalendar
from storage import prepared
from storage.models import Case

TAG_HEX, OLD_TAG_HEX = 12, 6  # reporter tags: 48 bits now, 24 bits in cases stored before


@dataclass
class Outcome:
    """The answer to a tap: `key` names the short text the tapper sees."""

    ok: bool
    key: str
    case: Case | None = None
    distance_m: float | None = None  # for check-ins: how far from the place
    extension_id: int | None = None  # for extension requests: the row awaiting its reason
    bound: tuple[str, str] | None = None  # for /bind: (kind, street name or department key)
    request_id: int | None = None  # for a /bind awaiting the command centre: its request (issue 11)


class Department(NamedTuple):
    zh: str
    en: str
    chat: int | None  # its group; None until /bind


@dataclass
class Settings:
    categories: dict[str, Category]
    # The groups and grid workers as config.yaml gives them; what counts now (with /bind) is the core's
    # Directory (cases/directory.py), read from the database by every process.
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
    departments: dict[str, Department] = field(default_factory=dict)  # by key, in config order
    checkin_radius_m: float = 200.0
    call_answer: timedelta = timedelta(minutes=10)
    rating_timeout: timedelta = timedelta(days=3)
    group_lang: str = "zh"
    warn_at: float = 0.8  # early warning at this share of the time; 0 turns it off
    # After a deadline: nag the responsible unit, then its deputy, its chief, the command centre.
    escalate_after: tuple[timedelta, ...] = (timedelta(0), timedelta(minutes=10), timedelta(minutes=20),
                                             timedelta(minutes=30))
    chains: dict[str, dict[str, Person]] = field(default_factory=dict)  # unit -> {"deputy": …, "chief": …}
    duty_leaders: list[Person] = field(default_factory=list)
    max_extensions: int = 2
    trackers: dict[str, str] = field(default_factory=dict)  # city unit -> district department following it
    grid_chats: dict[str, int | None] = field(default_factory=dict)  # grid cell -> its group
    grid_workers: dict[int, str] = field(default_factory=dict)  # user id -> the grid cell they work
    rota: Rota | None = None  # the dated duty rota; None: duty_leaders are always on duty
    checkin_live: bool = False  # only a live location counts as a check-in, kept a minute on site
    checkin_photo: bool = False  # a check-in also needs one photo on site, sent first

    bind_code_ttl: timedelta = timedelta(hours=24)  # a /bind code not used by then is void (issue 11)
    oversight: list[Person] = field(default_factory=list)  # 纪委监委, 组织部: read everything, act on nothing
    assessment: AssessmentCfg = field(default_factory=AssessmentCfg)  # 监督考核: report times, readers, weights

    def duty_on(self, when: datetime, street: str | None = None) -> list[Person]:
        """The duty leaders that day (两级巡查轮值): the rota's district and street leaders, else the flat list."""
        if self.rota is None:
            return self.duty_leaders
        return self.rota.on_duty(when.astimezone(self.tz).date(), street)

    def department_name(self, key: str) -> str:
        dept = self.departments.get(key)
        return dept.zh if dept else key


class CoreBase:
    def __init__(self, db, clock, settings: Settings, streets, on_outbox: Callable[[], None] | None = None,
                 grids=None):
        self.db = db  # storage.db.Database: db.write(fn) runs fn(session) as one transaction
        self.sessions = db.sessions  # async reads
        self.on_deadlines: Callable[[], None] = lambda: None  # the scheduler re-arms itself
        self.clock = clock
        self.settings = settings
        self.directory = Directory(settings, clock)  # which group serves which unit: read again when stale
        db.before_write.append(self.directory.refresh)  # ... at the start of any write transaction
        self.streets = streets  # geo.streets.StreetIndex
        self.grids = grids  # the optional grid cell layer, also a StreetIndex
        self._on_outbox = on_outbox or (lambda: None)
        # Told the photo hashes of drafts that are gone, so originals no case uses are deleted at once
        # (storage/retention.py; set by the application).
        self.on_photos_dropped: Callable[[list[str]], Awaitable[object]] | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def outbox_written(self) -> None:
        """Wake the delivery worker after a commit that wrote outbox rows (and re-arm the scheduler:
        every transition that sends something may also have opened or closed deadlines)."""
        self._on_outbox()
        self.on_deadlines()

    async def photos_dropped(self, shas: list[str]) -> None:
        if shas and self.on_photos_dropped:
            await self.on_photos_dropped(shas)

    def open_deadline(self, session: Session, case_id: int, kind: str, opened: datetime, due: datetime,
                      call_id: int | None = None) -> None:
        warn = self.settings.warn_at
        first = opened + (due - opened) * warn if 0 < warn < 1 and kind != "rating" else due
        session.execute(prepared.ADD_DEADLINE, {
            "case_id": case_id, "kind": kind, "call_id": call_id, "opened_at": opened, "due_at": due,
            "status": "open", "level": 0, "warned": not (0 < warn < 1), "next_at": first})

    def open_call_deadlines(self, session: Session, call, now: datetime) -> None:
        """Every call's two deadlines: answered within call_answer, on site by its checkin_due."""
        answer, checkin = PER_CALL
        self.open_deadline(session, call.case_id, answer, now, now + self.settings.call_answer, call.id)
        self.open_deadline(session, call.case_id, checkin, now, call.checkin_due, call.id)

    def case_deadlines(self, category: Category, start: datetime) -> dict[str, datetime]:
        """A case's own deadlines by its category's time limits (working days in working days)."""
        s = self.settings
        return {k: d.after(start, s.calendar, s.tz) for k, d in category.limits.items()}

    def reporter_tag(self, user_id: int) -> str:
        # Stable per citizen (repeat reports are visible) but not reversible to the Telegram id.
        # 48 bits (24 collided once a district had ~5,000 reporters). The first 6 digits are the
        # old 24-bit tag, so a case stored with an old tag still matches the same citizen's new ones.
        digest = hmac.new(self.settings.tag_secret, str(user_id).encode(), sha256).hexdigest()
        return "R-" + digest[:TAG_HEX].upper()

    @staticmethod
    def same_reporter(tag_a: str, tag_b: str) -> bool:
        """Whether two tags name one citizen; an old 24-bit tag matches the start of its 48-bit one."""
        n = min(len(tag_a), len(tag_b))
        return n >= len("R-") + OLD_TAG_HEX and tag_a[:n] == tag_b[:n]

    @staticmethod
    def trace(session: Session, case_id: int, at: datetime, kind: str, role: str,
              actor_id: int | None = None, chat_id: int | None = None, **data) -> None:
        session.execute(prepared.ADD_EVENT, {"case_id": case_id, "at": at, "kind": kind, "actor_role": role,
                                             "actor_id": actor_id, "chat_id": chat_id, "data": data})


class Service:
    """A use case's area (intake, lifecycle, disposal, deadlines, escalations): it holds the core's shared
    parts (CoreBase) and is given any other service's piece at construction (cases/__init__.py); no
    service inherits another's methods."""

    def __init__(self, base: CoreBase):
        self.base = base

    # The shared parts, read through: the application sets the base's callbacks after construction.
    db = property(lambda self: self.base.db)
    sessions = property(lambda self: self.base.sessions)
    clock = property(lambda self: self.base.clock)
    settings = property(lambda self: self.base.settings)
    directory = property(lambda self: self.base.directory)
    streets = property(lambda self: self.base.streets)
    grids = property(lambda self: self.base.grids)
    trace = staticmethod(CoreBase.trace)
    same_reporter = staticmethod(CoreBase.same_reporter)

    def now(self) -> datetime:
        return self.base.now()

    def outbox_written(self) -> None:
        self.base.outbox_written()

    async def write(self, tx: Callable[[Session], Outcome]) -> Outcome:
        """One transaction for a tap's answer (an Outcome), then, when it did something, wake the
        outbox: what every transition of a case does."""
        outcome = await self.db.write(tx)
        if outcome.ok:
            self.outbox_written()
        return outcome

    def wake_outbox(self) -> None:
        """Wake the delivery worker only (the deadlines it wrote need no re-arming)."""
        self.base._on_outbox()

    def open_deadline(self, *args, **kwargs) -> None:
        return self.base.open_deadline(*args, **kwargs)

    def open_call_deadlines(self, session: Session, call, now: datetime) -> None:
        self.base.open_call_deadlines(session, call, now)

    def case_deadlines(self, category: Category, start: datetime) -> dict[str, datetime]:
        return self.base.case_deadlines(category, start)

    def reporter_tag(self, user_id: int) -> str:
        return self.base.reporter_tag(user_id)

    async def photos_dropped(self, shas: list[str]) -> None:
        await self.base.photos_dropped(shas)

"""The database is the truth: cases, photos, the trace, deadlines, drafts and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """SQLite forgets time zones; store naive UTC and hand back aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            from datetime import UTC
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            from datetime import UTC
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    category: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place_title: Mapped[str | None] = mapped_column(String(256))
    place_address: Mapped[str | None] = mapped_column(String(512))
    place_source: Mapped[str] = mapped_column(String(16))  # location | venue | exif
    street: Mapped[str | None] = mapped_column(String(64), index=True)
    routed_by: Mapped[str] = mapped_column(String(16))  # polygon | tolerance | manual | pending
    reporter_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reporter_lang: Mapped[str] = mapped_column(String(4))
    reporter_tag: Mapped[str] = mapped_column(String(16))
    handler_id: Mapped[int | None] = mapped_column(BigInteger)
    handler_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[str | None] = mapped_column(String(12))  # satisfied | mostly | unsatisfied
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    difficult: Mapped[bool] = mapped_column(default=False, server_default="0")  # 疑难件: for the duty leaders
    rating_comment: Mapped[str | None] = mapped_column(Text)  # the citizen's optional words with the last rating
    grid: Mapped[str | None] = mapped_column(String(64), index=True)  # handled by this grid cell's group
    reported_by_grid: Mapped[str | None] = mapped_column(String(64), index=True)  # a grid worker's report, credited
    # The first verified on-site check-in of anyone working the case (a department or the street itself):
    # it meets the case's on-site deadline (limits.checkin).
    on_site_at: Mapped[datetime | None]
    on_site_by: Mapped[str | None] = mapped_column(String(160))  # "name" or "name · department"
    on_site_m: Mapped[float | None] = mapped_column(Float)
    media_purged_at: Mapped[datetime | None]  # its photo originals deleted after media.keep_days (storage/retention.py)
    # ---- intake channels (Open311 API): None is a Telegram report; else the channel's config key
    channel: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(64))  # the channel's own ticket number

    photos: Mapped[list[Photo]] = relationship(back_populates="case", order_by="Photo.position")
    deadlines: Mapped[list[Deadline]] = relationship(back_populates="case", order_by="Deadline.due_at")

    # One case per ticket of a channel: a repeated POST finds the case instead of making a second one;
    # a report reads its period's cases by creation time.
    __table_args__ = (Index("ux_cases_channel_external", "channel", "external_id", unique=True),
                      Index("ix_cases_created_at", "created_at"))


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(8), default="before")  # before | after
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # Telegram photos are re-encoded without EXIF; a photo sent as a file is shown to staff as a
    # stripped copy, whose file id we learn on the first upload.
    needs_strip: Mapped[bool] = mapped_column(default=False)
    staff_file_id: Mapped[str | None] = mapped_column(String(256))

    case: Mapped[Case] = relationship(back_populates="photos")

    __table_args__ = (Index("ix_photos_sha256", "sha256"),)  # is an original still used? (retention)


class Upload(Base):
    """Bytes a user made the bot download, for the hourly quota (intake.max_upload_mb_per_hour)."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    bytes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_uploads_user_at", "user_id", "at"), Index("ix_uploads_at", "at"))


class Call(Base):
    """A street's call (呼叫) to one department: answer, then check in on site."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))  # pending | answered | checked_in | declined
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    checkin_due: Mapped[datetime]
    called_by: Mapped[int] = mapped_column(BigInteger)
    called_by_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    answered_by_name: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None]
    checked_in_by_name: Mapped[str | None] = mapped_column(String(128))
    checked_in_at: Mapped[datetime | None]
    checkin_distance_m: Mapped[float | None] = mapped_column(Float)
    decline_reason: Mapped[str | None] = mapped_column(String(256))
    street_rating: Mapped[str | None] = mapped_column(String(8))  # good | fair | poor
    department_rating: Mapped[str | None] = mapped_column(String(12))  # accurate | inaccurate


class Extension(Base):
    """A request to move a deadline (延期): who asked, why, to when, and who allowed or refused it."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    requested_by: Mapped[int] = mapped_column(BigInteger)
    requested_by_name: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime]
    new_due: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12))  # asking (awaits a reason) | pending | approved | refused
    prompt_chat: Mapped[int | None] = mapped_column(BigInteger)  # where the reason is asked for (a reply)
    prompt_message: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]


class BindCode(Base):
    """A one-time code that binds a group chat to a street or department (`/bind CODE`)."""

    __tablename__ = "bind_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # street | department | grid | worker
    target: Mapped[str] = mapped_column(String(64))  # street name, department key or grid name
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_chat: Mapped[int | None] = mapped_column(BigInteger)


class GridWorker(Base):
    """A grid worker (网格员) registered with a one-time code; config.yaml's `grids[].workers` add to these."""

    __tablename__ = "grid_workers"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grid: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]  # issue 11: a revoked worker (config-listed ones too) has no fast flow
    revoked_by: Mapped[int | None] = mapped_column(BigInteger)


class Binding(Base):
    """Which group chat a street or department uses; overrides config.yaml's chat_id."""

    __tablename__ = "bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    target: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # None: unbound (/unbind), config.yaml's id too
    bound_at: Mapped[datetime]
    bound_by: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("kind", "target"),)


class Event(Base):
    """The trace (全程留痕): append-only, one row per thing that happened to a case."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_role: Mapped[str] = mapped_column(String(16))  # citizen | handler | command | system
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict] = mapped_column(default=dict)


class Deadline(Base):
    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # respond | assign | checkin | resolve | verify | rating (the case's); answer | checkin (a call's, call_id)
    kind: Mapped[str] = mapped_column(String(24))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)  # a call's deadline
    opened_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | met | lapsed | cancelled
    closed_at: Mapped[datetime | None]
    # Escalation: 0 not lapsed; 1 the responsible unit nagged; 2 deputy; 3 chief; 4 command centre.
    level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warned: Mapped[bool] = mapped_column(default=False, server_default="0")
    next_at: Mapped[datetime | None]  # when this deadline next needs the scheduler (warning/lapse/escalation)

    case: Mapped[Case] = relationship(back_populates="deadlines")

    @staticmethod
    def belongs_to(call_id: int | None):
        """SQL condition: the case's own deadlines (call_id None), or that call's."""
        return Deadline.call_id.is_(None) if call_id is None else Deadline.call_id == call_id

    @property
    def label(self) -> str:
        """The deadline as the trace names it: 'resolve', or 'answer:17' for call 17's."""
        return f"{self.kind}:{self.call_id}" if self.call_id is not None else self.kind

    __table_args__ = (Index("ix_deadlines_open_due", "status", "due_at"),
                      Index("ix_deadlines_open_next", "status", "next_at"))


class Prompt(Base):
    """A question the bot asked: the answer finishes the action, even after a restart. In a group (a
    ForceReply), kind: not_ours (the street's reason), decline (a department's reason), time (a typed
    check-in time for a call; data holds the department mask), pick (the department picker: a
    location in reply sets the call's meeting place, kept in data). In a citizen's chat: comment (the
    optional words after a rating; target_id is the case)."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)  # the case, or the call for a decline
    data: Mapped[dict] = mapped_column(default=dict)
    asked_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)


class Card(Base):
    """Where a case's card was posted, so it can be edited in place from the current state. A card
    can have copies (sent again after a timed-out send or a crash): each is a row, all are edited."""

    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # street | routing
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    caption: Mapped[bool] = mapped_column(default=False)  # a photo's caption, not a text message
    round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the case's reopen_count then

    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_cards_chat_message"),)


class Draft(Base):
    """A citizen's report in progress: kept in the database so a restart loses nothing."""

    __tablename__ = "drafts"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    lang: Mapped[str] = mapped_column(String(4))
    data: Mapped[dict] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(index=True)


class DayCounter(Base):
    __tablename__ = "day_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Outbox(Base):
    """Messages the core decided to send, written in the same transaction as the decision."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    payload: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_ids: Mapped[list] = mapped_column(default=list)
    # e.g. "timed out on attempt 1: may have been delivered" — kept so a duplicate is explainable.
    log: Mapped[list] = mapped_column(default=list)
    # A replica sending this row holds it until then (a dead replica's rows go to another after it).
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))

    # The delivery pass walks pending rows in id order reading only these columns (a covering index:
    # no table lookups for the rows of chats that must wait); the next retry is one index seek.
    __table_args__ = (Index("ix_outbox_queue", "status", "id", "chat_id", "not_before"),
                      Index("ix_outbox_retry", "status", "not_before"),
                      # the callback worker's pass (chat 0: api/callbacks.py) seeks its own rows, however
                      # many group cards wait behind Telegram's limits
                      Index("ix_outbox_chat_pending", "chat_id", "status", "id"))



# ---- issue 11: binding hardening (wrong /bind guesses; rebinds awaiting the command centre) ----------
class BindFailure(Base):
    """A wrong /bind code: counted per chat and per user to throttle guessing."""

    __tablename__ = "bind_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(index=True)


class BindRequest(Base):
    """A /bind that would move a street, department or grid cell away from its group: the command centre decides."""

    __tablename__ = "bind_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    target: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int] = mapped_column(BigInteger)  # the new group
    old_chat: Mapped[int | None] = mapped_column(BigInteger)
    requested_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | confirmed | refused
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None]



# ---- Replicas on one database (issue 14): updates handled once, shared limits, service state ----------

class HandledUpdate(Base):
    """A Telegram update some replica has taken: a redelivered update (webhook retry) is a no-op."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)  # old rows are swept


class SentMessage(Base):
    """One send to Telegram by any replica: the bot-wide counters behind its rate limits."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (Index("ix_sent_messages_chat_at", "chat_id", "at"),)


class ServiceState(Base):
    """Small facts the health check reads, e.g. when the deadline pass last ran (any replica)."""

    __tablename__ = "service_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]

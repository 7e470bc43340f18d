"""The hot path's statements, built once.

SQLAlchemy caches a statement's compiled SQL by a key it computes from the statement object; building
`select(...).where(...)` anew for every call costs that work each time (~130 µs a statement here, more
than SQLite takes to run it), and `Session.get` builds one per call too. A report runs the same few
statements a dozen times, so they are module constants with bind parameters: compiled once per dialect,
run on the transaction's session (SQLite and PostgreSQL alike). Measured in docs/BENCHMARKS.md (issue 9).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import joinedload

from storage.models import Case, DayCounter, Deadline, Draft, Event, Outbox, Photo, Prompt, Upload

_D = Draft.__table__
DRAFT = select(_D.c.user_id, _D.c.chat_id, _D.c.lang, _D.c.data).where(_D.c.user_id == bindparam("user"))
ADD_DRAFT = insert(_D)  # values given at execution
SET_DRAFT = (update(_D).where(_D.c.user_id == bindparam("user"))
             .values(chat_id=bindparam("chat", type_=_D.c.chat_id.type), lang=bindparam("lang", type_=_D.c.lang.type),
                     data=bindparam("data", type_=_D.c.data.type),
                     updated_at=bindparam("at", type_=_D.c.updated_at.type)))
DROP_DRAFT = delete(_D).where(_D.c.user_id == bindparam("user"))

_U = Upload.__table__
UPLOADED = select(func.coalesce(func.sum(_U.c.bytes), 0)).where(_U.c.user_id == bindparam("user"),
                                                                 _U.c.at > bindparam("since", type_=_U.c.at.type))
ADD_UPLOAD = insert(_U)
DROP_UPLOADS = delete(_U).where(_U.c.at < bindparam("before", type_=_U.c.at.type))

_C = Case.__table__
RECENT_CASES = select(func.count(_C.c.id)).where(_C.c.reporter_id == bindparam("user"),
                                                 _C.c.created_at > bindparam("since", type_=_C.c.created_at.type))

_N = DayCounter.__table__
DAY_COUNTER = select(_N.c.last).where(_N.c.day == bindparam("of_day"))
NEXT_NUMBER = update(_N).where(_N.c.day == bindparam("of_day")).values(last=_N.c.last + 1)

# Rows inserted as they are made (the case's id is known by then): a Core INSERT costs a fraction of an
# ORM object's add and flush, and none of these rows is read back as an object in its transaction.
ADD_CASE = insert(_C)
ADD_PHOTO = insert(Photo.__table__)
ADD_DEADLINE = insert(Deadline.__table__)
ADD_EVENT = insert(Event.__table__)
ADD_OUTBOX = insert(Outbox.__table__)

# Reads a report makes several times: the case with its photos and deadlines (each message is rendered
# from it), the next deadline (the scheduler re-arms after every write), an open question in a chat.
# Joined, not selectin: one statement instead of three (0.29 against 1.12 ms a load, bench.statements); a
# case has a handful of photos and deadlines, so the product of the two stays small. Read with .unique().
_WITH_PARTS = (joinedload(Case.photos), joinedload(Case.deadlines))
CASE = select(Case).where(Case.id == bindparam("case")).options(*_WITH_PARTS)
CASE_NUMBERED = select(Case).where(Case.number == bindparam("number")).options(*_WITH_PARTS)
NEXT_DEADLINE = select(func.min(Deadline.next_at)).where(Deadline.status == "open", Deadline.next_at.is_not(None),
                                                         Deadline.kind != "rating")
OPEN_PROMPT = (select(Prompt).where(Prompt.chat_id == bindparam("chat"), Prompt.kind == bindparam("of_kind"),
                                    Prompt.used_at.is_(None),
                                    Prompt.created_at > bindparam("since", type_=Prompt.created_at.type))
               .order_by(Prompt.id.desc()).limit(1))

# The outbox as delivery reads and writes it.
_O = Outbox.__table__
QUEUED = (select(_O.c.id, _O.c.chat_id, _O.c.not_before, _O.c.claimed_until, _O.c.claimed_by)
          .where(_O.c.status == "pending", _O.c.chat_id != bindparam("channel"))
          .order_by(_O.c.id).limit(bindparam("batch")))
NEXT_RETRY = (select(_O.c.not_before).where(_O.c.status == "pending", _O.c.chat_id != bindparam("channel"),
                                            _O.c.not_before > bindparam("now", type_=_O.c.not_before.type))
              .order_by(_O.c.not_before).limit(1))
OUTBOX_ROWS = select(Outbox).where(Outbox.id.in_(bindparam("ids", expanding=True))).order_by(Outbox.id)


@cache
def set_outbox(columns: frozenset[str]):
    """UPDATE outbox SET <columns> WHERE id = :row, one statement per set of columns (a handful exist)."""
    return update(_O).where(_O.c.id == bindparam("row")).values(
        {c: bindparam("v_" + c, type_=_O.c[c].type) for c in columns})

"""Driving the channel-free core and reading the database back (the unit tests' vocabulary)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Call, Case, Deadline, Event, Outbox

ROOT = Path(__file__).resolve().parents[2]
STREET = "温泉街道"
STREET_CHAT = -1001000000003
COMMAND = -1001000000099
CITY_MGMT = -1002000000001
WATER = -1002000000003
WATER_CO = -1002000000005
DUTY_LEADER = 7003
CITIZEN = 8001
HANDLER = 5003


# ---- reading the database back -----------------------------------------------------------------
def rows(core, model, *where, order=None):
    """Rows of `model` straight from the database (a fresh session: what another process would see)."""
    with Session(core.db.sync_engine) as session:
        query = select(model).where(*where).order_by(*([order] if order is not None else
                                                       model.__mapper__.primary_key))
        return list(session.scalars(query))


def case_row(core, case_id: int) -> Case:
    return rows(core, Case, Case.id == case_id)[0]


def trace(core, case_id: int) -> list[str]:
    return [e.kind for e in rows(core, Event, Event.case_id == case_id)]


def events(core, case_id: int, kind: str) -> list[Event]:
    return rows(core, Event, Event.case_id == case_id, Event.kind == kind)


def deadlines(core, case_id: int) -> dict[str, Deadline]:
    """The case's deadlines by label ('resolve', 'answer:17' for call 17's; the newest row of a label wins:
    a reopened case opens new ones)."""
    return {d.label: d for d in rows(core, Deadline, Deadline.case_id == case_id)}


def outbox(core, after: int = 0) -> list[tuple]:
    """(kind, chat, key) of every outbox row with an id above `after`; key: a notice's text key."""
    return [(r.kind, r.chat_id, r.payload.get("key")) for r in rows(core, Outbox, Outbox.id > after)]


def last_outbox_id(core) -> int:
    ids = [r.id for r in rows(core, Outbox)]
    return ids[-1] if ids else 0


# ---- driving the core -------------------------------------------------------------------------------
def photo(n: int = 0) -> dict:
    return {"file_id": f"file{n}", "file_unique_id": f"u{n}", "sha256": f"{n:064x}", "width": 800, "height": 600}


async def report(core, category: str = "road_damage", user: int = CITIZEN, lang: str = "zh",
                 street: str = STREET, place: tuple[float, float] | None = None, note: str = "井盖缺失"):
    """A citizen's report through the intake API: photo, place, category, note, submit."""
    lat, lon = place or core.streets.representative_point(street)
    await core.intake.add_photo(user, user, lang, photo(user))
    await core.intake.set_place(user, user, lang, lat, lon, "location")
    await core.intake.set_category(user, user, lang, category)
    await core.intake.set_description(user, user, lang, note)
    return await core.intake.submit(user, user, lang)


async def accepted(core, category: str = "road_damage", **kw):
    case = await report(core, category, **kw)
    outcome = await core.lifecycle.accept(case.id, HANDLER, "Wenquan handler", STREET_CHAT)
    assert outcome.ok, outcome.key
    return case


async def called(core, clock, departments=("city_mgmt",), hours: float = 2, **kw):
    """An accepted case with `departments` called to check in within `hours`; returns (case, calls)."""
    case = await accepted(core, **kw)
    outcome = await core.disposal.call_departments(case.id, list(departments), clock.now() + timedelta(hours=hours),
                                          HANDLER, "Wenquan handler", STREET_CHAT)
    assert outcome.ok, outcome.key
    return case, rows(core, Call, Call.case_id == case.id)

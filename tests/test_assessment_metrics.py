"""监督考核 metrics on hand-built traces, stored and read back as a report reads them: every figure checked
against a count done by hand."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert

from assessment.league import league, score
from assessment.metrics import _quantile, assess
from assessment.period import parse_period
from assessment.recurring import repeated_places, rising, top_category
from assessment.trace import CallRow, CaseRow, Trace, load
from cases.people import Person
from storage.db import migrate, sync_url
from storage.models import Call, Case, Deadline, Extension

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Fuzhou
NOW = T0 + timedelta(days=2)
M = timedelta(minutes=1)


def case(i, street="鼓东街道", state="closed", rating="satisfied", reopens=0, accepted=5, resolved=60,
         category="garbage", lat=26.08, lon=119.30, difficult=False, handler="李四", grid=None):
    return CaseRow(i, f"GL-{i:04d}", street, grid, category, state, T0, T0 + accepted * M if accepted else None,
                   T0 + resolved * M if resolved else None, T0 + 2 * resolved * M if state == "closed" else None,
                   rating, reopens, difficult, lat, lon, handler, None, None)


def deadline(case_id, kind, due_min, closed_min=None, status="met", level=0, call_id=None):
    """A deadline row as stored: a call's are 'answer' and 'checkin' with its call_id."""
    stored = "checkin" if kind == "checkin_call" else kind
    return {"case_id": case_id, "kind": stored, "call_id": call_id, "opened_at": naive(T0),
            "due_at": naive(T0 + due_min * M), "status": status,
            "closed_at": naive(T0 + closed_min * M) if closed_min else None, "level": level, "warned": False}


def naive(t):
    return t.astimezone(UTC).replace(tzinfo=None) if t else None  # stored as naive UTC


def stored(url: str, cases, calls, deadlines, extended=()) -> Trace:
    """The rows written to a migrated database and read back by load(), as a report reads them."""
    migrate(url)
    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        conn.execute(insert(Case.__table__), [
            {"id": c.id, "number": c.number, "state": c.state, "category": c.category, "description": "",
             "lat": c.lat, "lon": c.lon, "place_source": "location", "street": c.street, "grid": c.grid,
             "routed_by": "polygon", "reporter_id": 1000 + c.id, "reporter_lang": "zh", "reporter_tag": "R",
             "handler_name": c.handler, "created_at": naive(c.created), "accepted_at": naive(c.accepted),
             "updated_at": naive(c.created), "resolved_at": naive(c.resolved), "rating": c.rating,
             "closed_at": naive(c.closed), "reopen_count": c.reopens, "difficult": c.difficult} for c in cases])
        conn.execute(insert(Call.__table__), [
            {"id": k.id, "case_id": k.case_id, "department": k.department, "status": k.status, "lat": 26.08,
             "lon": 119.30, "checkin_due": naive(k.created + 60 * M), "called_by": 1, "called_by_name": "李四",
             "created_at": naive(k.created), "answered_at": naive(k.answered), "answered_by_name": k.answered_by,
             "checked_in_at": naive(k.checked_in), "checked_in_by_name": k.checked_in_by,
             "street_rating": k.street_rating, "department_rating": k.department_rating} for k in calls])
        ids = [conn.execute(insert(Deadline.__table__).values(**d).returning(Deadline.id)).scalar()
               for d in deadlines]
        for case_id in extended:  # an approved extension of the case's resolve deadline
            deadline_id = next(i for i, d in zip(ids, deadlines, strict=True)
                               if d["case_id"] == case_id and d["kind"] == "resolve")
            conn.execute(insert(Extension.__table__).values(
                deadline_id=deadline_id, case_id=case_id, requested_by=1, requested_by_name="李四",
                requested_at=naive(T0), new_due=naive(T0 + 480 * M), status="approved"))
    with engine.connect() as conn:
        trace = load(conn, T0 - timedelta(days=1), T0 + timedelta(days=1), NOW)
    engine.dispose()
    return trace


@pytest.fixture
def hand_built(database_url) -> Trace:
    cases = [
        case(1),  # closed satisfied
        case(2, rating="mostly", reopens=1, accepted=15),  # 基本满意 after one reopening; respond late
        case(3, rating="none"),  # closed without a rating
        case(4, state="accepted", rating=None, reopens=1, resolved=None, difficult=True),  # reopened: unsatisfied
        case(5, street="鼓西街道", state="reported", rating=None, accepted=None, resolved=None),
    ]
    deadlines = [
        deadline(1, "respond", 10, 5), deadline(1, "resolve", 240, 60),
        deadline(2, "respond", 10, 15, level=1), deadline(2, "resolve", 240, 60),
        deadline(3, "respond", 10, 5), deadline(3, "resolve", 240, 239),
        deadline(4, "respond", 10, 5), deadline(4, "resolve", 240, status="open", level=3),  # past due: late
        deadline(5, "respond", 60 * 24 * 3, status="open"),  # not due yet: not judged
        deadline(1, "answer", 10, 8, call_id=11), deadline(1, "checkin_call", 60, 70, call_id=11),  # on site late
        deadline(4, "answer", 10, status="open", level=3, call_id=12),
        deadline(4, "checkin_call", 60, status="cancelled", call_id=12),
    ]
    calls = [CallRow(11, 1, "city_mgmt", "checked_in", T0, T0 + 8 * M, T0 + 70 * M, "王五", "王五", "good",
                     "accurate"),
             CallRow(12, 4, "water", "pending", T0, None, None, None, None, None, "inaccurate")]
    return stored(database_url, cases, calls, deadlines, extended={2})


CHAINS = {"鼓东街道": {"deputy": Person("分管 周", 1), "chief": Person("主责 吴", 2)},
          "区水利局": {"deputy": Person("分管 郑", 3), "chief": Person("主责 冯", 4)}}
NAMES = {"city_mgmt": "区城管局", "water": "区水利局"}


def test_district_rates_match_a_count_by_hand(hand_built):
    a = assess(hand_built, TZ, NAMES, CHAINS)
    d = a.district
    assert (d.received, d.resolved, d.closure_rate) == (5, 3, 0.6)  # cases 1, 2, 3 closed
    # rated: 1 satisfied, 2 mostly, 4 unsatisfied (reopened); 3 closed unrated is shown apart, never satisfied
    assert (d.rated, d.satisfied, d.unrated_closed) == (3, 2, 1)
    assert d.satisfaction_rate == pytest.approx(2 / 3) and d.unsatisfied_rate == pytest.approx(1 / 3)
    assert d.reopen_rate == pytest.approx(2 / 5) and d.difficult == 1 and d.extended == 1
    assert (d.on_time["respond"], d.judged["respond"]) == (3, 4)  # case 5's is not due yet
    assert (d.on_time["resolve"], d.judged["resolve"]) == (3, 4)  # case 4's open past due is late
    assert (d.answer_on_time, d.onsite_on_time) == (0.5, 0.0)  # call 12 not answered; call 11 on site late
    assert d.overdue == 4  # respond of 2, resolve of 4, on site of call 11, answer of call 12
    assert (d.call_accuracy, d.good_rate) == (0.5, 1.0)
    assert d.median("respond") == 5 and d.p90("respond") == 15
    assert d.median("arrive") == 70 and d.median("resolve") == 60


def test_units_persons_and_one_record_per_call(hand_built):
    a = assess(hand_built, TZ, NAMES, CHAINS)
    assert a.streets["鼓东街道"].received == 4 and a.streets["鼓西街道"].received == 1
    assert a.streets["鼓东街道"].call_accuracy == 0.5  # the departments' verdict on the street's calls
    assert a.departments["city_mgmt"].good_rate == 1.0 and a.departments["water"].answer_on_time == 0.0
    # each verdict counts for the unit it judges: a street's 好评率 and a department's 准确率 are not rates
    assert a.streets["鼓东街道"].good_rate is None and a.departments["water"].call_accuracy is None
    assert (a.departments["city_mgmt"].calls, a.departments["city_mgmt"].median("arrive")) == (1, 70)
    by = {(p.name, p.role, p.unit): p for p in a.persons}
    assert by[("李四", "handler", "鼓东街道")].tally.received == 4
    assert by[("王五", "answered", "区城管局")].tally.answer_on_time == 1.0
    assert by[("王五", "checked_in", "区城管局")].tally.onsite_on_time == 0.0
    # case 4's resolve reached the street's chief; call 12's answer reached the water bureau's chief
    assert (by[("分管 周", "deputy", "鼓东街道")].reached, by[("主责 吴", "chief", "鼓东街道")].reached) == (1, 1)
    assert by[("主责 冯", "chief", "区水利局")].reached == 1 and by[("主责 冯", "chief", "区水利局")].reached_met == 0
    records = {r.call_id: r for r in a.calls}
    assert (records[11].answered_on_time, records[11].on_site_on_time, records[11].level) == (True, False, 0)
    assert (records[12].answered_on_time, records[12].on_site_on_time, records[12].level) == (False, None, 3)
    assert records[12].number == "GL-0004" and records[12].department == "区水利局"


def test_league_weights_floors_and_change_of_rank(hand_built):
    a = assess(hand_built, TZ, NAMES, CHAINS)
    weights = {"closure_rate": 1.0, "satisfaction_rate": 1.0}
    # 鼓东: closure 3/4, satisfaction 2/3 → 70.8; 鼓西: closure 0, no ratings (left out) → 0
    assert score(a.streets["鼓东街道"], weights) == pytest.approx(70.8)
    rows = league(a.streets, weights, {"closure_rate": 0.9}, previous={"鼓西街道": a.streets["鼓东街道"],
                                                                      "鼓东街道": a.streets["鼓西街道"]})
    assert [(r.unit, r.rank, r.change, r.below) for r in rows] == [
        ("鼓东街道", 1, 1, ["closure_rate"]), ("鼓西街道", 2, -1, ["closure_rate"])]


def test_recurring_problems():
    near = [case(i, lat=26.08 + i * 0.0002, lon=119.30) for i in range(1, 4)]  # 3 within ~45 m
    far = [case(9, lat=26.09, lon=119.30), case(10, category="road_damage", lat=26.0801, lon=119.30)]
    clusters = repeated_places(near + far, 100, 3)
    assert [k.numbers for k in clusters] == [["GL-0001", "GL-0002", "GL-0003"]]
    assert repeated_places(near[:2] + far, 100, 3) == []
    assert [r.category for r in rising(near + far, Counter({"garbage": 2, "road_damage": 1}))] == ["garbage"]
    assert top_category(near + far)["鼓东街道"][0] == "garbage"


def test_quantile_and_periods():
    assert _quantile(list(range(1, 11)), 0.9) == 9 and _quantile([7], 0.5) == 7
    today = datetime(2026, 12, 3).date()
    assert parse_period("week", today).label == "2026-W48"
    assert parse_period("month", today).label == "2026-11"
    assert parse_period("half", today).label == "2026-H1"
    assert parse_period("2026-W47", today).start.isoformat() == "2026-11-16"
    assert parse_period("2026-11", today).previous().label == "2026-10"
    with pytest.raises(ValueError):
        parse_period("soon", today)

"""Grid cells and grid workers, and two processes on one database: the core alone."""

import asyncio

from cases.bootstrap import build_core
from cases.intake import CONFIRM
from storage.db import Database
from storage.models import Event, Outbox
from tests.unit.support import (
    COMMAND,
    STREET,
    STREET_CHAT,
    case_row,
    events,
    last_outbox_id,
    outbox,
    photo,
    report,
    rows,
)

GRID, GRID_CHAT, WORKER = "温泉街道01网格", -1003000000001, 6001


async def test_a_grid_matter_goes_to_its_grid_group_which_handles_it_like_a_street(core, clock):
    place = core.grids.representative_point(GRID)
    case = await report(core, "street_vending", place=place)
    row = case_row(core, case.id)
    assert (row.street, row.grid, row.state) == (STREET, GRID, "routed")
    assert events(core, case.id, "routed")[0].data["grid"] == GRID
    assert outbox(core)[0] == ("street_card", GRID_CHAT, None)
    assert (await core.lifecycle.accept(case.id, WORKER, "Worker", STREET_CHAT)).key == "not_your_group"
    mark = last_outbox_id(core)
    assert (await core.lifecycle.accept(case.id, WORKER, "Worker", GRID_CHAT)).ok
    assert rows(core, Outbox, Outbox.id == mark + 2)[0].payload["args"]["street"] == GRID
    # the deadlines still climb the street's chain, told to the group that handles the case
    clock.advance(hours=4)
    mark = last_outbox_id(core)
    await core.deadlines.fire_due()
    assert ("notice", GRID_CHAT, "dl_level1") in outbox(core, mark)
    assert rows(core, Outbox, Outbox.id > mark)[0].payload["args"]["unit"] == STREET


async def test_a_grid_matter_in_a_cell_without_a_group_stays_with_the_street(core):
    case = await report(core, "street_vending", place=core.grids.representative_point("温泉街道02网格"))
    assert (case_row(core, case.id).grid, outbox(core)[0]) == (None, ("street_card", STREET_CHAT, None))


async def test_a_grid_workers_report_takes_the_fast_path_and_is_credited_to_the_grid(core):
    view = await core.intake.add_photo(WORKER, WORKER, "zh", photo(), caption="  占道摆摊  ")
    assert view.data["fast"] and view.data["description"] == "占道摆摊"
    await core.intake.set_place(WORKER, WORKER, "zh", *core.streets.representative_point(STREET), "location")
    assert (await core.intake.set_category(WORKER, WORKER, "zh", "garbage")).step == CONFIRM  # no note, no confirm
    case = await core.intake.submit(WORKER, WORKER, "zh")
    row = case_row(core, case.id)
    assert (row.reported_by_grid, row.description) == (GRID, "占道摆摊")
    reported = events(core, case.id, "reported")[0]
    assert (reported.actor_role, reported.data["grid"]) == ("grid_worker", GRID)


async def test_two_processes_on_one_database_fire_each_step_once(core, cfg, clock):
    other = build_core(cfg, Database(str(core.db.sync_engine.url).replace("sqlite:", "sqlite+aiosqlite:")), clock,
                       core.streets, core.grids)
    try:
        await report(core, "garbage")
        clock.advance(minutes=45)  # every step of respond is due: lapse, deputy, chief, command centre
        fired = await asyncio.gather(*(c.deadlines.fire_due() for c in (core, other, core, other)))
        assert sum(fired) == 4
        kinds = [e.kind for e in rows(core, Event)]
        assert (kinds.count("lapsed"), kinds.count("escalated"), kinds.count("difficult")) == (1, 3, 1)
        assert len([r for r in outbox(core) if r[2] == "dl_level4"]) == 1
    finally:
        await other.db.dispose()


async def test_a_binding_made_in_one_process_is_used_by_another(core, cfg, clock):
    """Replicas (and the API) each hold a Directory: a /bind, /unbind or worker code in one process is
    read by the other's next transaction once its view is max_age old; its own binding counts at once."""
    from cases.binding import new_code
    other = build_core(cfg, Database(str(core.db.sync_engine.url).replace("sqlite:", "sqlite+aiosqlite:")), clock,
                       core.streets, core.grids)
    try:
        await other.bindings.load()
        code = await core.db.write(lambda s: new_code(s, "street", STREET, core.now()))
        asked = await core.bindings.bind(code, -42, 1)
        assert (await core.bindings.decide_rebind(asked.request_id, True, 4999, COMMAND)).key == "rebind_confirmed"
        assert core.directory.street_chat(STREET) == -42
        assert other.directory.street_chat(STREET) == STREET_CHAT  # younger than max_age: not read again yet
        clock.advance(seconds=other.directory.max_age.total_seconds())
        mark = last_outbox_id(core)
        await report(other, "garbage")  # the other process routes the next report by the new binding
        assert outbox(core, mark)[0] == ("street_card", -42, None)
        assert other.directory.street_chat(STREET) == -42
        # a worker registered in one process gets the fast path in the other; an unbind reaches it too
        worker = await core.db.write(lambda s: new_code(s, "worker", GRID, core.now()))
        assert (await core.bindings.bind(worker, 6100, 6100, private=True)).ok
        assert (await core.bindings.unbind("street", STREET, 4999, COMMAND)).key == "unbound"
        clock.advance(seconds=other.directory.max_age.total_seconds())
        await other.db.write(other.directory.refresh)  # what the bot's "directory" job does
        assert other.directory.grid_workers[6100] == GRID and other.directory.street_chat(STREET) is None
    finally:
        await other.db.dispose()

"""Deadlines that bite, extensions and difficult cases: every step, on the core alone.

The demo config: a call must be answered in 10 min; warnings at 80 %; after a deadline the unit is
nagged at once, then its deputy (+10 min), chief (+20), the command centre (+30). 区城管局's deputy is
user 7001 and its chief 7002; the week's duty leader is 7003.
"""

from datetime import datetime, timedelta

from storage.models import Call, Deadline, Event, Extension, Outbox
from tests.unit.support import (
    CITIZEN,
    CITY_MGMT,
    COMMAND,
    DUTY_LEADER,
    HANDLER,
    STREET,
    STREET_CHAT,
    WATER,
    WATER_CO,
    accepted,
    called,
    case_row,
    deadlines,
    events,
    last_outbox_id,
    outbox,
    report,
    rows,
)

DEPUTY, CHIEF = 7001, 7002


def steps(core, case_id: int, deadline: str) -> list[tuple]:
    """The escalation trace of one deadline: (event, level, to)."""
    return [(e.kind, e.data.get("level"), e.data.get("to")) for e in rows(core, Event, Event.case_id == case_id)
            if e.kind in ("warned", "lapsed", "escalated") and e.data.get("deadline") == deadline]


async def test_an_unanswered_call_climbs_every_step_of_the_chain(core, clock):
    case, [call] = await called(core, clock)
    kind = f"answer:{call.id}"
    start = clock.now()

    clock.advance(minutes=7, seconds=59)
    assert await core.deadlines.fire_due() == 0, "nothing before 80 % of the time"

    clock.set(start + timedelta(minutes=8))  # 80 %: the early warning, to the department's group
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 1
    assert outbox(core, mark) == [("notice", CITY_MGMT, "dl_warn")]
    assert steps(core, case.id, kind) == [("warned", None, None)]
    d = deadlines(core, case.id)[kind]
    assert (d.warned, d.level, d.next_at) == (True, 0, start + timedelta(minutes=10))
    args = rows(core, Outbox, Outbox.id > mark)[0].payload["args"]
    # data, not words: the unit by kind and key, the due time as it is (ui/ names and formats them)
    assert (args["unit_kind"], args["unit"], args["what"]) == ("department", "city_mgmt", "answer")
    assert datetime.fromisoformat(args["due"]) == d.due_at

    clock.set(start + timedelta(minutes=10))  # lapsed: the department is nagged
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 1
    assert outbox(core, mark) == [("notice", CITY_MGMT, "dl_level1")]
    assert deadlines(core, case.id)[kind].next_at == start + timedelta(minutes=20)

    clock.set(start + timedelta(minutes=20))  # the deputy: in the group and privately
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 1
    assert await core.deadlines.fire_due() == 0, "firing again sends nothing twice"
    assert outbox(core, mark) == [("notice", CITY_MGMT, "dl_level2"), ("notice", DEPUTY, "dl_private")]
    args = rows(core, Outbox, Outbox.id > mark)[0].payload["args"]
    assert (args["name"], args["mention_id"], args["minutes"]) == ("分管副局长 张伟", DEPUTY, 10)

    clock.set(start + timedelta(minutes=30))  # the chief
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 1
    assert outbox(core, mark) == [("notice", CITY_MGMT, "dl_level3"), ("notice", CHIEF, "dl_private")]

    clock.set(start + timedelta(minutes=40))  # the top: command centre, duty leader, a difficult case
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 1
    assert outbox(core, mark) == [("difficult_card", COMMAND, None), ("difficult_card", DUTY_LEADER, None),
                                  ("notice", COMMAND, "dl_level4"), ("notice", DUTY_LEADER, "dl_private")]
    assert case_row(core, case.id).difficult
    d = deadlines(core, case.id)[kind]
    assert (d.level, d.next_at, d.status) == (4, None, "open")
    assert steps(core, case.id, kind) == [("warned", None, None), ("lapsed", "lapsed", None),
                                          ("escalated", "deputy", "分管副局长 张伟"),
                                          ("escalated", "chief", "局长 陈明"), ("escalated", "command", None)]
    clock.advance(hours=5)
    await core.deadlines.fire_due()  # the case's own deadlines fire meanwhile; this one is done
    assert len(steps(core, case.id, kind)) == 5, "nothing after the top of the chain"


async def test_the_escalation_stops_when_the_department_answers(core, clock):
    case, [call] = await called(core, clock)
    clock.advance(minutes=20)
    await core.deadlines.fire_due()  # lapsed and the deputy at once (no warning for what has already lapsed)
    assert [s[0] for s in steps(core, case.id, f"answer:{call.id}")] == ["lapsed", "escalated"]
    await core.disposal.answer_call(call.id, 6100, "Staff", CITY_MGMT)
    assert deadlines(core, case.id)[f"answer:{call.id}"].status == "met"
    clock.advance(minutes=30)
    mark = last_outbox_id(core)
    await core.deadlines.fire_due()
    assert all(r[1] != CITY_MGMT or r[2] not in ("dl_level3", "dl_level4") for r in outbox(core, mark))
    assert len(steps(core, case.id, f"answer:{call.id}")) == 2
    assert not case_row(core, case.id).difficult


async def test_steps_missed_while_down_fire_once_each_in_order_without_a_warning(core, clock):
    case = await report(core, "garbage")  # nobody accepts: respond is due in 10 minutes
    clock.advance(minutes=45)
    mark = last_outbox_id(core)
    assert await core.deadlines.fire_due() == 4
    assert steps(core, case.id, "respond") == [("lapsed", "lapsed", None), ("escalated", "deputy", None),
                                               ("escalated", "chief", None), ("escalated", "command", None)]
    # the street has no deputy or chief in the demo config: the group is told so at each level, nobody privately
    assert outbox(core, mark) == [("notice", STREET_CHAT, "dl_level1"), ("notice", STREET_CHAT, "dl_no_leader2"),
                                  ("notice", STREET_CHAT, "dl_no_leader3"), ("difficult_card", COMMAND, None),
                                  ("difficult_card", DUTY_LEADER, None), ("notice", COMMAND, "dl_level4"),
                                  ("notice", DUTY_LEADER, "dl_private")]
    assert [e.kind for e in rows(core, Event, Event.case_id == case.id)].count("difficult") == 1


async def test_the_handler_is_named_and_nagged_privately_for_the_street_deadlines(core, clock):
    case = await accepted(core, "garbage")  # resolve within 4 hours
    clock.advance(hours=4)
    mark = last_outbox_id(core)
    await core.deadlines.fire_due()
    assert outbox(core, mark)[-2:] == [("notice", STREET_CHAT, "dl_level1"), ("notice", HANDLER, "dl_private")]
    assert rows(core, Outbox, Outbox.id > mark)[-2].payload["args"]["mention_id"] == HANDLER
    assert steps(core, case.id, "resolve")[-1] == ("lapsed", "lapsed", "Wenquan handler")


async def test_a_city_units_nags_reach_its_tracking_department(core, clock):
    case = await accepted(core)
    call_departments = core.disposal.call_departments
    await call_departments(case.id, ["water_co"], clock.now() + timedelta(hours=1), HANDLER, "h", STREET_CHAT)
    clock.advance(minutes=8)
    mark = last_outbox_id(core)
    await core.deadlines.fire_due()
    assert outbox(core, mark) == [("notice", WATER_CO, "dl_warn"), ("notice", WATER, "dl_warn")]


async def test_early_warnings_off(core, clock):
    core.settings.warn_at = 0
    case, [call] = await called(core, clock)
    assert deadlines(core, case.id)[f"answer:{call.id}"].warned  # nothing owed before the lapse
    clock.advance(minutes=9)
    assert await core.deadlines.fire_due() == 0
    clock.advance(minutes=1)
    assert await core.deadlines.fire_due() == 1
    assert steps(core, case.id, f"answer:{call.id}") == [("lapsed", "lapsed", None)]


async def test_next_deadline_at_is_the_earliest_open_step(core, clock):
    assert await core.deadlines.next_deadline_at() is None
    case, [call] = await called(core, clock)
    assert await core.deadlines.next_deadline_at() == clock.now() + timedelta(minutes=8)
    await core.disposal.answer_call(call.id, 6100, "Staff", CITY_MGMT)
    later = min(d.next_at for d in rows(core, Deadline, Deadline.status == "open", Deadline.kind != "rating"))
    assert await core.deadlines.next_deadline_at() == later


# ---- extensions ------------------------------------------------------------------------------------
async def ask(core, target, target_id, option, user, chat, reason="路面材料未到", prompt=900):
    outcome = await core.escalations.ask_extension(target, target_id, option, user, "Asker", chat)
    if not outcome.ok:
        return outcome
    await core.escalations.set_extension_prompt(outcome.extension_id, chat, prompt)
    return await core.escalations.give_reason(chat, prompt, reason)


async def test_a_call_check_in_extension_approved_by_the_calling_street(core, clock):
    case, [call] = await called(core, clock, hours=1)
    kind = f"checkin:{call.id}"
    old_due = deadlines(core, case.id)[kind].due_at
    ask_extension = core.escalations.ask_extension
    assert (await ask_extension("call", call.id, "1h", 6100, "Staff", STREET_CHAT)).key == "not_your_group"
    mark = last_outbox_id(core)
    sent = await ask(core, "call", call.id, "1h", 6100, CITY_MGMT)
    assert (sent.ok, sent.key) == (True, "extension_sent")
    ext = rows(core, Extension)[0]
    assert (ext.status, ext.reason, ext.new_due) == ("pending", "路面材料未到", old_due + timedelta(hours=1))
    assert outbox(core, mark) == [("extension_request", STREET_CHAT, None)]
    assert events(core, case.id, "extension_asked")[0].actor_role == "department"
    assert (await core.escalations.give_reason(CITY_MGMT, 900, "again")).key == "already_asked"

    assert (await core.escalations.decide_extension(ext.id, True, 6100, "Staff", CITY_MGMT)).key == "not_your_group"
    mark = last_outbox_id(core)
    assert (await core.escalations.decide_extension(ext.id, True, HANDLER, "Handler", STREET_CHAT)).key == "ext_done"
    decide_extension = core.escalations.decide_extension
    assert (await decide_extension(ext.id, False, HANDLER, "Handler", STREET_CHAT)).key == "already_decided"
    d = deadlines(core, case.id)[kind]
    assert (d.due_at, d.next_at, d.level, d.warned) == (ext.new_due, ext.new_due, 0, True)
    assert rows(core, Call)[0].checkin_due == ext.new_due
    assert rows(core, Extension)[0].status == "approved"
    assert outbox(core, mark) == [("notice", CITY_MGMT, "ext_approved")]
    assert events(core, case.id, "extended")[0].data["by"] == "Handler"


async def test_a_street_extension_goes_to_the_duty_leader_and_is_capped(core, clock):
    case = await accepted(core, "garbage")
    due = deadlines(core, case.id)["resolve"].due_at
    mark = last_outbox_id(core)
    await ask(core, "case", case.id, "4h", HANDLER, STREET_CHAT)
    assert outbox(core, mark) == [("extension_request", DUTY_LEADER, None)]
    ext = rows(core, Extension)[-1]
    decide_extension = core.escalations.decide_extension
    assert (await decide_extension(ext.id, True, HANDLER, "Handler", STREET_CHAT)).key == "not_your_group"
    mark = last_outbox_id(core)
    assert (await core.escalations.decide_extension(ext.id, False, DUTY_LEADER, "Lin", DUTY_LEADER)).ok
    assert outbox(core, mark) == [("notice", STREET_CHAT, "ext_refused")]
    assert deadlines(core, case.id)["resolve"].due_at == due, "a refusal moves nothing"
    assert events(core, case.id, "extension_refused")[0].data["reason"] == "路面材料未到"

    for n in range(2):  # max_extensions: 2 approved per deadline
        await ask(core, "case", case.id, "1h", HANDLER, STREET_CHAT, prompt=901 + n)
        ext = rows(core, Extension)[-1]
        assert (await core.escalations.decide_extension(ext.id, True, DUTY_LEADER, "Lin", DUTY_LEADER)).ok
        due += timedelta(hours=1)
        assert deadlines(core, case.id)["resolve"].due_at == due
    assert (await ask(core, "case", case.id, "1h", HANDLER, STREET_CHAT, prompt=903)).key == "too_many_extensions"


async def test_one_working_day_more_skips_the_weekend(core, clock):
    clock.advance(days=4)  # Friday 09:30
    case = await accepted(core, "garbage")
    await ask(core, "case", case.id, "1wd", HANDLER, STREET_CHAT)
    ext = rows(core, Extension)[0]
    due = deadlines(core, case.id)["resolve"].due_at
    assert ext.new_due == due + timedelta(days=3)  # Friday 13:30 → Monday 13:30


async def test_no_open_deadline_no_extension(core, clock):
    case = await accepted(core, "garbage")
    from tests.unit.test_disposal import after_photo
    await core.disposal.resolve(case.id, HANDLER, STREET_CHAT, "ok", after_photo())
    assert (await core.escalations.ask_extension("case", case.id, "1h", HANDLER, "h", STREET_CHAT)).key == "no_deadline"
    assert (await core.escalations.ask_extension("case", case.id, "2h", HANDLER, "h", STREET_CHAT)).key == "stale"


# ---- difficult cases -------------------------------------------------------------------------------
async def test_a_handler_flags_a_difficult_case_once(core):
    case = await accepted(core)
    assert (await core.escalations.flag_difficult(case.id, 1, -1001000000001)).key == "not_your_group"
    mark = last_outbox_id(core)
    assert (await core.escalations.flag_difficult(case.id, HANDLER, STREET_CHAT)).key == "difficult_sent"
    assert (await core.escalations.flag_difficult(case.id, HANDLER, STREET_CHAT)).key == "already_difficult"
    assert outbox(core, mark) == [("difficult_card", COMMAND, None), ("difficult_card", DUTY_LEADER, None)]
    assert rows(core, Outbox, Outbox.id > mark)[0].payload["reason"] == {"why": "handler"}
    assert [(e.actor_role, e.actor_id) for e in events(core, case.id, "difficult")] == [("handler", HANDLER)]


async def test_the_duty_leader_assigns_a_department_bindingly(core, clock):
    case = await accepted(core)
    await core.escalations.flag_difficult(case.id, HANDLER, STREET_CHAT)
    assign_difficult = core.escalations.assign_difficult
    assert (await assign_difficult(case.id, "water", HANDLER, "h", STREET_CHAT)).key == "not_duty_leader"
    mark = last_outbox_id(core)
    outcome = await core.escalations.assign_difficult(case.id, "water", DUTY_LEADER, "Lin", DUTY_LEADER)
    assert (outcome.ok, outcome.key) == (True, "assigned_tap")
    [call] = rows(core, Call)
    assert (call.department, call.status, call.checkin_due) == ("water", "pending", clock.now() + timedelta(hours=1))
    dl = deadlines(core, case.id)
    assert dl[f"answer:{call.id}"].due_at == clock.now() + timedelta(minutes=10)
    assert dl[f"checkin:{call.id}"].due_at == clock.now() + timedelta(hours=1)
    sent = outbox(core, mark)  # the call card, then the command centre and the deciding leader (any order)
    assert sent[0] == ("call_card", WATER, None)
    assert sorted(sent[1:]) == sorted([("notice", COMMAND, "assigned"), ("notice", DUTY_LEADER, "assigned")])
    assert events(core, case.id, "assigned")[0].data == {"unit": "water", "by": "Lin", "binding": True}  # no words
    assign_difficult = core.escalations.assign_difficult
    assert (await assign_difficult(case.id, STREET, DUTY_LEADER, "Lin", DUTY_LEADER)).key == "already_assigned"


async def test_the_duty_leader_hands_a_difficult_case_to_another_street(core, clock):
    case = await accepted(core)
    await core.escalations.flag_difficult(case.id, HANDLER, STREET_CHAT)
    assert (await core.escalations.assign_difficult(case.id, "nowhere", DUTY_LEADER, "Lin", DUTY_LEADER)).key == "stale"
    mark = last_outbox_id(core)
    assert (await core.escalations.assign_difficult(case.id, "鼓东街道", DUTY_LEADER, "Lin", DUTY_LEADER)).ok
    row = case_row(core, case.id)
    assert (row.state, row.street, row.handler_id, row.routed_by) == ("routed", "鼓东街道", None, "manual")
    respond = [d for d in rows(core, Deadline, Deadline.case_id == case.id, Deadline.kind == "respond")][-1]
    assert (respond.status, respond.due_at) == ("open", clock.now() + timedelta(minutes=10))
    assert outbox(core, mark)[0] == ("street_card", -1001000000001, None)
    assert (await core.lifecycle.accept(case.id, 5001, "Gudong handler", -1001000000001)).ok
    assert CITIZEN in [r[1] for r in outbox(core, mark)]  # the citizen hears who took it

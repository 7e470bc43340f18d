"""On site means on site: the case's on-site deadline (limits.checkin), who meets it, and the evidence."""

from sqlalchemy import select

from storage.models import Deadline
from tests.test_disposal import accepted_case, call, check_in


async def fire(d):
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()


def texts(d, chat):
    return [m.get("text") or m.get("caption") or "" for m in d.emu.messages(chat)]


async def test_a_department_on_site_in_time_meets_the_case_on_site_deadline(district):
    """The bug: a department that checked in at minute 5 did not stop the case's 1-hour on-site
    deadline; at 60 minutes the street was nagged and the chain climbed to a difficult case."""
    d = district
    _citizen, number, chat, (lat, lon) = await accepted_case(d, 8201)  # 道路破损: on site within 1 h
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    dept = d.dept_chat("city_mgmt")
    card = await d.wait_button(dept, "响应")
    d.clock.advance(minutes=5)
    reply = await check_in(d, d.staff_of("city_mgmt"), card, lat, lon)
    assert reply["text"].startswith("报到成功")
    for minutes in (45, 15, 11, 11, 11):  # past the warning, the lapse and every escalation step
        d.clock.advance(minutes=minutes)
        await fire(d)
    late = [x for x in texts(d, chat) + texts(d, d.cfg.command_center.chat_id) if "到场报到」" in x]
    assert late == [], late
    async with d.core.sessions() as s:
        on_site = await s.scalar(select(Deadline).where(Deadline.kind == "checkin"))
        assert on_site.status == "met" and on_site.level == 0

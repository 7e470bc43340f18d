"""A department's check-in on site meets the case's own check-in limit (道路破损: on site within 1 hour),
not only the call's: before, the case's deadline stayed open until the case was resolved, so every such
case not resolved within the hour climbed to the command centre and became a difficult case."""

from sqlalchemy import select

from storage.models import Case, Deadline
from tests.test_disposal import accepted_case, call, check_in


async def test_check_in_meets_the_cases_checkin_deadline(district):
    d = district
    citizen, number, chat, (lat, lon) = await accepted_case(d)
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    card = await d.wait_button(d.dept_chat("city_mgmt"), "响应")
    d.clock.advance(minutes=20)
    reply = await check_in(d, d.staff_of("city_mgmt"), card, lat + 0.0004, lon)
    assert "报到成功" in reply["text"]
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number))
        rows = {x.kind: x for x in await s.scalars(select(Deadline).where(Deadline.case_id == case.id))}
    assert (rows["checkin"].status, rows["checkin"].closed_at) == ("met", d.clock.now())
    assert rows["resolve"].status == "open"  # only the check-in limit is met
    d.clock.advance(hours=2)  # past the hour: nothing fires for the case's check-in any more
    await d.core.deadlines.fire_due()
    async with d.core.sessions() as s:
        assert (await s.get(Case, case.id)).difficult is False

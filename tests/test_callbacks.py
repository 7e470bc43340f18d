"""Phone-backs (回访): the daily summary lists cases owed a call; /callback records the outcome as the rating."""

from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Case, Event
from tests.test_disposal import STREET, accepted_case, answers


async def resolve(d, chat, number):
    card = next(m for m in d.emu.messages(chat) if m.get("photo") and number in m.get("caption", ""))
    await d.emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="after"), caption="已处理",
                                 reply_to_message_id=card["message_id"])


async def summary(d):
    command = d.cfg.command_center.chat_id
    n = len(d.emu.messages(command))
    await d.app.job_queue.get_jobs_by_name("summary")[0].run(d.app)
    return (await d.wait_text(command, "日报", after=n))["text"]


async def test_phone_backs_listed_and_recorded_as_the_rating(district):
    d, emu = district, district.emu
    silent, number1, chat, _ = await accepted_case(d, 8401)
    await resolve(d, chat, number1)
    unhappy, number2, _chat, _ = await accepted_case(d, 8402)
    await resolve(d, chat, number2)
    await d.wait_button(unhappy.id, "不满意")
    await answers(d, await d.tap_last(unhappy, unhappy.id, "不满意"))
    d.clock.advance(days=3, minutes=1)
    await d.app.job_queue.get_jobs_by_name("ratings")[0].run(d.app)
    assert await d.wait_text(silent.id, "已办结（未评价）")

    text = await summary(d)
    assert "回访清单" in text and f"{number1} 未评价" in text and f"{number2} 不满意" in text

    command = d.cfg.command_center.chat_id
    officer = d.staff[command][0]
    n = len(emu.messages(command))
    await emu.send_text(d.handler_of(STREET), chat, f"/callback {number1} 满意")
    assert await d.wait_text(chat, "只有指挥中心成员可以记录回访")
    await emu.send_text(officer, command, f"/callback {number1} 基本满意 电话确认已修好")
    assert await d.wait_text(command, f"已记录 {number1} 的电话回访", after=n)
    await emu.send_text(officer, command, f"/callback {number2} 不满意 仍有积水")
    assert await d.wait_text(command, f"已记录 {number2} 的电话回访", after=n)

    async with d.core.sessions() as s:
        case = await s.scalar(select(Case).where(Case.number == number1))
        assert (case.state, case.rating) == ("closed", "mostly")
        rated = (await s.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "rated"))).all()
        assert rated[-1].data == {"rating": "mostly", "via": "phone"} and rated[-1].actor_role == "command"
        call = await s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "callback"))
        assert call.data["note"] == "电话确认已修好" and call.actor_id == officer.id
    text = await summary(d)
    assert "回访清单" not in text, text

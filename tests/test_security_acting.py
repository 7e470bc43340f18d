"""Issue 11: on an accepted case only its handler and the group's administrators act; another member takes it
over explicitly (traced, the previous handler told); a question is answered by the person asked."""

from __future__ import annotations

from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Case, Event

from .test_escalations import STREET, accepted, answer_of


def card_of(d, chat):
    return [m for m in d.emu.messages(chat) if m.get("photo")][-1]


async def test_another_member_cannot_resolve_but_may_take_over(district):
    d, emu = district, district.emu
    chat = await accepted(d, 9901)
    handler, other = d.handler_of(STREET), emu.user(5999, "Other member")
    emu.add_member(chat, other)
    card = card_of(d, chat)
    await emu.send_photo_reply(other, chat, jpeg(label="fixed"), caption="修好了",
                               reply_to_message_id=card["message_id"])
    offer = await d.wait_button(chat, "接手")
    assert "由 Wenquan handler 办理" in offer["text"] and "Other member" in offer["text"]
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "accepted"
    # a tap too: refused with who handles it
    q = await d.tap_last(other, chat, "呼叫部门")
    assert "只有经办人或群管理员" in await answer_of(d, q)
    # the offer is the asker's: the handler's tap on it does nothing
    q = await d.tap_last(handler, chat, "接手")
    assert await answer_of(d, q) == "这个按钮是给别人的。"
    q = await d.tap_last(other, chat, "接手")
    assert await answer_of(d, q) == "已接手，您是经办人。"
    notice = await d.wait_text(chat, "已由 Other member 接手")
    assert "原经办人 Wenquan handler" in notice["text"]
    # the previous handler is mentioned (a link to them): Telegram notifies them
    assert any(e.get("url") == f"tg://user?id={handler.id}" for e in notice.get("entities", []))
    await emu.wait_for(lambda: "Other member" in (card_of(d, chat).get("caption") or ""))
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        ev = await s.scalar(select(Event).where(Event.kind == "taken_over"))
    assert case.handler_id == other.id and ev.actor_id == other.id and ev.data["previous"] == handler.id
    # now the previous handler is the one refused, and the new one resolves
    q = await d.tap_last(handler, chat, "疑难件")
    assert "只有经办人或群管理员" in await answer_of(d, q)
    await emu.send_photo_reply(other, chat, jpeg(label="fixed2"), caption="修好了",
                               reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结")


async def test_a_group_administrator_acts_without_taking_over(district):
    d, emu = district, district.emu
    chat = await accepted(d, 9902)
    admin = emu.user(5998, "Group admin")
    emu.add_member(chat, admin)
    emu.admins[chat].add(admin.id)
    await emu.send_photo_reply(admin, chat, jpeg(label="fixed"), caption="管理员办结",
                               reply_to_message_id=card_of(d, chat)["message_id"])
    assert await d.wait_text(chat, "已办结")
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "resolved"


async def test_a_question_is_answered_by_the_person_asked(district):
    d, emu = district, district.emu
    chat = await accepted(d, 9903)
    handler, other = d.handler_of(STREET), emu.user(5997, "Other member")
    emu.add_member(chat, other)
    n = len(emu.messages(chat))
    await d.tap_last(handler, chat, "非本辖区")
    prompt = await d.wait_text(chat, "Wenquan handler", after=n)
    await emu.send_text(other, chat, "不是我们的", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "只有被询问的人")
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "accepted"
    await emu.send_text(handler, chat, "属于鼓东街道", reply_to_message_id=prompt["message_id"])
    await d.outbox_settled()
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "unrouted"


async def test_an_extension_reason_is_given_by_the_person_who_asked(district):
    d, emu = district, district.emu
    chat = await accepted(d, 9904)
    handler, other = d.handler_of(STREET), emu.user(5996, "Other member")
    emu.add_member(chat, other)
    n = len(emu.messages(chat))
    await d.tap_last(handler, chat, "⏳ 延期")
    await d.wait_button(chat, "延1小时")
    await d.tap_last(handler, chat, "延1小时")
    prompt = await d.wait_text(chat, "说明延期理由", after=n)
    await emu.send_text(other, chat, "随便", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "只有被询问的人")
    assert not any("延期申请已提交" in (m.get("text") or "") for m in emu.messages(chat))
    await emu.send_text(handler, chat, "等待管线单位", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "延期申请已提交")

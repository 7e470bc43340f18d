"""Rounds of a case: old buttons cannot act on a new round, and the street card always has the last word."""

from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Case, Event

from .test_disposal import STREET, accepted_case, answers


def street_cards(emu, chat, number):
    return [m for m in emu.messages(chat) if m.get("photo") and number in (m.get("caption") or "")]


async def resolve(d, chat, card, note):
    n = len(d.emu.messages(chat))
    await d.emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label=note), caption=note,
                                 reply_to_message_id=card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价", after=n)


async def test_an_old_rating_button_left_by_a_failed_edit_cannot_act_on_the_next_round(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 9101)
    first_card = street_cards(emu, chat, number)[0]
    await resolve(d, chat, first_card, "清理完毕")
    first_ask = await d.wait_button(citizen.id, "不满意")
    # removing the first round's rating keyboard fails (502s, more than the direct answers' retries)
    emu.fail_next("editMessageReplyMarkup", status=502, count=20)
    q = await emu.tap(citizen, citizen.id, first_ask["message_id"], _data(first_ask, "不满意"))
    assert (await answers(d, q))[0] == "已重新办理。"
    await d.wait_text(citizen.id, "已重新办理您的诉求")
    await emu.wait_for(lambda: len([c for c in emu.calls_to("editMessageReplyMarkup")
                                    if c.response.get("error_code") == 502]) == 4)  # the first try and 3 retries
    await emu.wait_for(lambda: not emu.pending_updates)
    emu.clear_faults()
    assert "不满意" in str(emu.message(citizen.id, first_ask["message_id"]).get("reply_markup")), "still on screen"
    # the second round: a new card, resolved again; a new rating request
    second_card = await emu.wait_for(lambda: (c := street_cards(emu, chat, number)) and len(c) == 2 and c[1])
    await resolve(d, chat, second_card, "彻底清理")
    second_ask = await emu.wait_for(lambda: next((m for m in emu.messages(citizen.id)
                                                  if "彻底清理" in (m.get("text") or "")), None))
    # the old 不满意 is refused as out of date: no second reopening, nothing to the duty leaders
    q = await emu.tap(citizen, citizen.id, first_ask["message_id"], _data(first_ask, "不满意"))
    assert (await answers(d, q))[0] == "这个按钮已过期：诉求已进入新一轮办理，请使用最新的消息。"
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.reopen_count, case.difficult) == ("resolved", 1, False)
    # the real one works
    q = await emu.tap(citizen, citizen.id, second_ask["message_id"], _data(second_ask, "满意"))
    assert (await answers(d, q))[0] == "感谢评价！"
    await d.outbox_settled()
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.rating, case.reopen_count) == ("closed", "satisfied", 1)
        assert [e.data["rating"] for e in await s.scalars(select(Event).where(Event.kind == "rated"))] == [
            "unsatisfied", "satisfied"]
    assert not any("疑难件" in (m.get("text") or "") for m in emu.messages(d.cfg.command_center.chat_id))


async def test_a_reply_to_a_finished_rounds_card_does_not_resolve_the_new_round(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 9102)
    first_card = street_cards(emu, chat, number)[0]
    await resolve(d, chat, first_card, "清理完毕")
    await d.wait_button(citizen.id, "不满意")
    await d.tap_last(citizen, citizen.id, "不满意")
    await emu.wait_for(lambda: len(street_cards(emu, chat, number)) == 2)
    n = len(emu.messages(chat))
    await emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="x"), caption="又清理了",
                               reply_to_message_id=first_card["message_id"])
    assert await d.wait_text(chat, "这张卡片属于已结束的一轮办理，请回复下方最新的卡片。", after=n)
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "accepted"


async def test_the_street_card_shows_the_rating_and_a_reopened_case_says_why(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 9103)
    first_card = street_cards(emu, chat, number)[0]
    await resolve(d, chat, first_card, "清理完毕")
    await d.wait_button(citizen.id, "不满意")
    await d.tap_last(citizen, citizen.id, "不满意")
    await d.wait_text(citizen.id, "想补充几句意见吗")
    second = await emu.wait_for(lambda: (c := street_cards(emu, chat, number)) and len(c) == 2 and c[1])
    assert second["caption"].startswith(f"🔁 重办 {number}（第 2 轮）")
    assert "😞 群众对上一轮办理不满意，已重新办理。" in second["caption"]
    # the first round's card has its last word: not satisfied, see the card below; no buttons
    old = emu.message(chat, first_card["message_id"])
    assert "🔁 群众不满意，已转入第 2 轮重新办理，请见下方新卡片。" in old["caption"] and not old.get("reply_markup")
    # the citizen's words reach the new card
    await d.text(citizen, "门口还是有垃圾")
    await emu.wait_for(lambda: "意见：门口还是有垃圾" in emu.message(chat, second["message_id"])["caption"])
    # second round resolved and rated: the card shows the outcome, not "awaiting rating"
    await resolve(d, chat, second, "彻底清理")
    await d.wait_button(citizen.id, "基本满意")
    await d.tap_last(citizen, citizen.id, "基本满意")
    await emu.wait_for(lambda: "🏁 已结案（评价：基本满意）" in emu.message(chat, second["message_id"])["caption"])
    caption = emu.message(chat, second["message_id"])["caption"]
    assert "已办结，待评价" not in caption and "第 2 轮" in caption and "门口还是有垃圾" in caption


async def test_a_satisfied_rating_shows_on_the_card_of_a_first_round(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 9104)
    card = street_cards(emu, chat, number)[0]
    await resolve(d, chat, card, "清理完毕")
    await d.wait_button(citizen.id, "满意")
    await d.tap_last(citizen, citizen.id, "满意")
    await emu.wait_for(lambda: "🏁 已结案（评价：满意）" in emu.message(chat, card["message_id"])["caption"])
    assert "已办结，待评价" not in emu.message(chat, card["message_id"])["caption"]


def _data(msg, label):
    return next(b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label)


async def test_old_mutual_rating_and_extension_buttons_are_refused_in_a_new_round(district):
    from .test_disposal import call
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 9105)
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    # the handler asks for more time in the first round (on the core: the approvers' chats are not the point)
    handler = d.handler_of(STREET)
    async with d.core.sessions() as s:
        case_id = (await s.scalar(select(Case))).id
    asked = await d.core.escalations.ask_extension("case", case_id, "1h", handler.id, "handler", chat)
    await d.core.escalations.set_extension_prompt(asked.extension_id, chat, 9999)
    assert (await d.core.escalations.give_reason(chat, 9999, "等材料")).ok
    first_card = street_cards(emu, chat, number)[0]
    await resolve(d, chat, first_card, "清理完毕")
    old_prompt = await d.wait_button(chat, "一般")
    await d.wait_button(citizen.id, "不满意")
    await d.tap_last(citizen, citizen.id, "不满意")
    second_card = await emu.wait_for(lambda: (c := street_cards(emu, chat, number)) and len(c) == 2 and c[1])
    await resolve(d, chat, second_card, "彻底清理")
    new_prompt = await emu.wait_for(lambda: (p := [m for m in emu.messages(chat) if "请评价" in (m.get("text") or "")])
                                    and len(p) == 2 and p[1])
    q = await emu.tap(handler, chat, old_prompt["message_id"], _data(old_prompt, "差"))
    assert (await answers(d, q))[0] == "这个按钮已过期：诉求已进入新一轮办理，请使用最新的消息。"
    q = await emu.tap(handler, chat, new_prompt["message_id"], _data(new_prompt, "好"))
    assert (await answers(d, q))[0] == "已记录评价。"
    # the first round's extension request cannot be decided now: its round is over
    outcome = await d.core.escalations.decide_extension(asked.extension_id, True, 1, "leader",
                                                        d.cfg.command_center.chat_id,
                                            round_=0)
    assert outcome.key == "old_round"

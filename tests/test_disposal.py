"""The whole life of a case: calls, check-ins, resolution with evidence, ratings both ways."""

import re

import pytest
from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Call, Case, Event

STREET = "温泉街道"


async def accepted_case(d, citizen_id=8001):
    citizen = d.citizen(citizen_id)
    lat, lon = d.core.streets.representative_point(STREET)
    receipt = await d.report(citizen, jpeg(label="before"), lat, lon, note="井盖缺失")
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    await d.wait_button(chat, "办结")
    return citizen, number, chat, (lat, lon)


async def answers(d, *queries):
    await d.emu.wait_for(lambda: all(q in d.emu.callback_answers for q in queries))
    return [d.emu.callback_answers[q].get("text") for q in queries]


async def call(d, chat, departments, time_label="1小时内"):
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "呼叫部门")
    for name in departments:
        await d.wait_button(chat, f"⬜ {name}")
        await d.tap_last(handler, chat, f"⬜ {name}")
        await d.wait_button(chat, f"☑️ {name}")
    q = await d.tap_last(handler, chat, time_label)
    return (await answers(d, q))[0]


async def check_in(d, staff, call_card, lat, lon):
    url = next(b["url"] for row in call_card["reply_markup"]["inline_keyboard"] for b in row if b.get("url"))
    start = url.split("start=")[1]
    n = len(d.emu.messages(staff.id))
    await d.text(staff, f"/start {start}")
    await d.wait_text(staff.id, "请发送您当前的位置", after=n)
    n = len(d.emu.messages(staff.id))
    await d.emu.send_location(staff, staff.id, lat, lon)
    return await d.emu.wait_for(lambda: len(d.emu.messages(staff.id)) > n and d.emu.messages(staff.id)[-1])


async def test_photo_to_satisfied_with_two_departments(district):
    d, emu = district, district.emu
    citizen, number, chat, (lat, lon) = await accepted_case(d)
    assert await call(d, chat, ["区城管局", "区建设局"]) == "已呼叫。"

    cards = {}
    for key in ("city_mgmt", "construction"):
        dchat = d.dept_chat(key)
        cards[key] = await d.wait_button(dchat, "响应")
        assert number in cards[key]["caption"] and "井盖缺失" in cards[key]["caption"]
        assert "到场时限: 11-23 10:30" in cards[key]["caption"]
    assert await d.wait_text(citizen.id, "已呼叫 2 个部门")

    # city management answers, then checks in on site
    mgmt = d.staff_of("city_mgmt")
    q = await d.tap_last(mgmt, d.dept_chat("city_mgmt"), "响应")
    assert (await answers(d, q))[0] == "已响应，请按时到场报到。"
    assert await d.wait_text(chat, "区城管局 已响应")
    reply = await check_in(d, mgmt, cards["city_mgmt"], lat + 0.0005, lon)  # ~55 m away
    assert reply["text"].startswith("报到成功，距现场 5") and "米" in reply["text"]
    assert await d.wait_text(chat, "已到场报到")
    assert await d.wait_text(citizen.id, "部门人员已到达现场")

    # construction tries from 1.1 km away: refused with the distance, then succeeds on site
    builder = d.staff_of("construction")
    far = await check_in(d, builder, cards["construction"], lat + 0.01, lon)
    assert re.search(r"报到失败：您距现场 1\d{3} 米，需在 200 米以内", far["text"])
    n = len(emu.messages(builder.id))
    await emu.send_location(builder, builder.id, lat, lon + 0.0003)
    ok = await d.wait_text(builder.id, "报到成功", after=n)
    assert ok

    # a department member adds a note by replying to the call card
    await emu.send_text(builder, d.dept_chat("construction"), "需要封路两小时",
                        reply_to_message_id=cards["construction"]["message_id"])
    assert await d.wait_text(chat, "需要封路两小时")

    # no photo, no resolution
    street_card = next(m for m in emu.messages(chat) if m.get("photo") and number in (m.get("caption") or ""))
    handler = d.handler_of(STREET)
    await emu.send_text(handler, chat, "修好了", reply_to_message_id=street_card["message_id"])
    assert await d.wait_text(chat, "没有处置后照片，不能办结")
    await emu.send_photo(handler, chat, jpeg(label="after", color=(90, 140, 90)))
    n = len(emu.messages(chat))
    after = jpeg(label="after", color=(90, 140, 90))
    await emu.send_photo_reply(handler, chat, after, caption="", reply_to_message_id=street_card["message_id"])
    assert await d.wait_text(chat, "请在照片说明里写处置情况", after=n)
    await emu.send_photo_reply(handler, chat, after, caption="已补装井盖",
                               reply_to_message_id=street_card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")

    # the citizen sees before and after, and rates
    ask = await d.wait_button(citizen.id, "满意")
    assert "已处置完毕" in ask["text"] and "已补装井盖" in ask["text"]
    album = [m for m in emu.messages(citizen.id) if m.get("media_group_id")]
    assert len(album) == 2
    q = await d.tap_last(citizen, citizen.id, "基本满意")
    assert (await answers(d, q))[0] == "感谢评价！"
    assert await d.wait_text(citizen.id, "已办结。")
    skip = await d.wait_button(citizen.id, "跳过")  # the optional comment, skipped
    q = await d.tap_last(citizen, citizen.id, "跳过")
    await answers(d, q)
    await emu.wait_for(lambda: not emu.message(citizen.id, skip["message_id"]).get("reply_markup"))

    # mutual ratings: street rates each department, each department rates the call
    await d.wait_button(chat, "好")
    prompts = [m for m in emu.messages(chat) if "请评价" in (m.get("text") or "")]
    assert len(prompts) == 2
    for prompt, label in zip(prompts, ("好", "一般"), strict=True):
        data = next(b["callback_data"] for row in prompt["reply_markup"]["inline_keyboard"] for b in row
                    if b["text"] == label)
        q = await emu.tap(handler, chat, prompt["message_id"], data)
        assert (await answers(d, q))[0] == "已记录评价。"
    for key, label in (("city_mgmt", "准确"), ("construction", "不准确")):
        await d.wait_button(d.dept_chat(key), label)
        q = await d.tap_last(d.staff_of(key), d.dept_chat(key), label)
        assert (await answers(d, q))[0] == "已记录评价。"

    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.rating, case.resolution_note) == ("closed", "mostly", "已补装井盖")
        calls = list(await s.scalars(select(Call).order_by(Call.id)))
        assert [(c.department, c.status, c.street_rating, c.department_rating) for c in calls] == [
            ("city_mgmt", "checked_in", "good", "accurate"), ("construction", "checked_in", "fair", "inaccurate")]
        assert 40 < calls[0].checkin_distance_m < 70
        kinds = [e.kind for e in await s.scalars(select(Event).order_by(Event.id))]
    for kind in ("reported", "routed", "accepted", "called", "answered", "checked_in", "checkin_refused", "note",
                 "resolved", "rated", "closed", "mutual_rating"):
        assert kind in kinds, kind

    # every state change is in the citizen's /case timeline
    await d.text(citizen, f"/case {number}")
    timeline = await d.wait_text(citizen.id, "提交诉求")
    for label in ("转交 温泉街道", "已接单", "呼叫部门", "部门响应", "部门到场报到", "已办结", "群众评价", "结案"):
        assert label in timeline["text"], label
    assert "Wang" not in timeline["text"]


async def test_the_comment_after_a_rating_survives_a_restart(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 8003)
    card = next(m for m in emu.messages(chat) if m.get("photo"))
    await emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="after"), caption="已清理",
                               reply_to_message_id=card["message_id"])
    await d.wait_button(citizen.id, "满意")
    await answers(d, await d.tap_last(citizen, citizen.id, "基本满意"))
    assert await d.wait_text(citizen.id, "想补充几句意见吗")
    await d.restart_bot()  # between the question and the answer
    n = len(emu.messages(citizen.id))
    await d.text(citizen, "清理得挺快")
    assert await d.wait_text(citizen.id, "已收到您的意见", after=n)
    assert await d.wait_text(chat, "群众对 " + number + " 的评价：基本满意。意见：清理得挺快")
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).rating_comment == "清理得挺快"


async def test_not_satisfied_reopens_and_silence_closes(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 8002)
    handler = d.handler_of(STREET)
    card = next(m for m in emu.messages(chat) if m.get("photo"))
    await emu.send_photo_reply(handler, chat, jpeg(label="after"), caption="清理完毕",
                               reply_to_message_id=card["message_id"])
    await d.wait_button(citizen.id, "不满意")
    q = await d.tap_last(citizen, citizen.id, "不满意")
    assert (await answers(d, q))[0] == "已重新办理。"
    assert await d.wait_text(citizen.id, "已重新办理您的诉求")
    # the optional comment goes to the street with the reopened case, once
    assert await d.wait_text(citizen.id, "想补充几句意见吗")
    n = len(emu.messages(citizen.id))
    await d.text(citizen, "门口还是有垃圾 <没清>")
    assert await d.wait_text(citizen.id, "已收到您的意见", after=n)
    assert await d.wait_text(chat, "群众对 " + number + " 的评价：不满意。意见：门口还是有垃圾 <没清>")
    n = len(emu.messages(citizen.id))
    await d.text(citizen, "再说一句")  # not a second comment: the usual help
    reply = await emu.wait_for(lambda: len(emu.messages(citizen.id)) > n and emu.messages(citizen.id)[-1])
    assert "已收到您的意见" not in reply["text"]
    # a fresh card with the handler's buttons goes to the same street
    await emu.wait_for(lambda: len([m for m in emu.messages(chat) if m.get("photo") and number in m.get("caption", "")
                                    and m is not card]) >= 1)
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.reopen_count, case.street) == ("accepted", 1, STREET)
        assert case.rating_comment == "门口还是有垃圾 <没清>"
        comment = await s.scalar(select(Event).where(Event.kind == "rating_comment"))
        assert comment.data == {"rating": "unsatisfied", "text": "门口还是有垃圾 <没清>"}

    # resolved again, then the citizen stays silent for 3 days
    new_card = [m for m in emu.messages(chat) if m.get("photo") and number in m.get("caption", "")][-1]
    await emu.send_photo_reply(handler, chat, jpeg(label="after2"), caption="彻底清理",
                               reply_to_message_id=new_card["message_id"])
    await d.wait_text(chat, "已办结，等待群众评价", after=len(emu.messages(chat)) - 2)
    job = d.app.job_queue.get_jobs_by_name("ratings")[0]
    d.clock.advance(days=2, hours=23)
    await job.run(d.app)
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "resolved"
    d.clock.advance(hours=2)
    await job.run(d.app)
    assert await d.wait_text(citizen.id, "已办结（未评价）")
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.rating) == ("closed", "none")


async def test_department_not_ours_outsiders_and_street_not_ours(district):
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 8003)
    await call(d, chat, ["区水利局"], "30分钟内")
    water = d.dept_chat("water")
    card = await d.wait_button(water, "响应")
    outsider = emu.user(6100, "Somebody")
    answer_data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    q = await emu.tap(outsider, water, card["message_id"], answer_data)
    assert "成员" in (await answers(d, q))[0]
    # "not ours" asks why (a second tap does not ask twice); the reply declines, once
    staff = d.staff_of("water")
    await d.tap_last(staff, water, "不属于本部门")
    prompt = await d.wait_text(water, "为何不属于本部门职责")
    assert prompt["text"].startswith(staff.first_name)  # the ForceReply is aimed at whoever tapped
    assert any(e.get("url") == f"tg://user?id={staff.id}" for e in prompt["entities"])
    q = await d.tap_last(staff, water, "不属于本部门")
    assert (await answers(d, q))[0] == "已在群里提问，请回复那条消息。"
    await emu.send_text(staff, water, "井盖属<燃气>公司", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(water, "已退回呼叫方。")
    assert await d.wait_text(chat, "区水利局 表示不属于本部门职责。理由：井盖属<燃气>公司")
    n = len(emu.messages(water))
    await emu.send_text(staff, water, "再说一遍", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(water, "这个问题已经回答过了。", after=n)
    # the street hands the case back to the command centre, with its reason
    await d.tap_last(d.handler_of(STREET), chat, "非本辖区")
    prompt = await d.wait_text(chat, "为何不属于本辖区")
    await emu.send_text(d.handler_of(STREET), chat, "在鼓西街道一侧", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "已退回区指挥中心重新分派。")
    command = d.cfg.command_center.chat_id
    assert await d.wait_text(command, f"温泉街道 退回 {number}（非本辖区），理由：在鼓西街道一侧")
    routing = await d.wait_button(command, "鼓东街道")
    assert f"待分派 {number}（温泉街道退回）" in routing["caption"], "not 'outside every street'"
    async with d.core.sessions() as s:
        case = await s.scalar(select(Case))
        assert (case.state, case.street) == ("unrouted", None)
        declined = await s.scalar(select(Call))
        assert (declined.status, declined.decline_reason) == ("declined", "井盖属<燃气>公司")
        events = {e.kind: e.data for e in await s.scalars(select(Event))}
        assert events["not_ours"]["reason"] == "在鼓西街道一侧"


async def test_a_typed_check_in_time_at_another_meeting_place(district):
    d, emu = district, district.emu
    citizen, number, chat, (lat, lon) = await accepted_case(d, 8006)
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "呼叫部门")
    picker = await d.wait_button(chat, "⬜ 区城管局")
    await d.tap_last(handler, chat, "⬜ 区城管局")
    await d.wait_button(chat, "☑️ 区城管局")
    # a location in reply to the picker: the departments meet there (~330 m north), not at the case
    meet = (lat + 0.003, lon)
    await emu.send_location(handler, chat, *meet, reply_to_message_id=picker["message_id"])
    assert await d.wait_text(chat, "已设定到场地点")
    await d.tap_last(handler, chat, "输入时间")
    prompt = await d.wait_text(chat, "请回复本消息写到场时限")
    n = len(emu.messages(chat))
    await emu.send_text(handler, chat, "等会儿吧", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "看不懂这个时间", after=n)
    await emu.send_text(handler, chat, "45分钟", reply_to_message_id=prompt["message_id"])
    assert await d.wait_text(chat, "已呼叫。", after=n)
    card = await d.wait_button(d.dept_chat("city_mgmt"), "响应")
    assert "到场时限: 11-23 10:15" in card["caption"]  # accepted at 09:30, then 45 minutes
    assert f"到场地点: {meet[0]:.5f}, {meet[1]:.5f}" in card["caption"]
    dept = d.dept_chat("city_mgmt")
    venue = await emu.wait_for(lambda: next((m for m in emu.messages(dept) if m.get("venue")), None))
    assert abs(venue["venue"]["location"]["latitude"] - meet[0]) < 1e-6
    mgmt = d.staff_of("city_mgmt")
    far = await check_in(d, mgmt, card, lat, lon)  # at the case's place: 330 m from the meeting place
    assert far["text"].startswith("报到失败")
    n = len(emu.messages(mgmt.id))
    await emu.send_location(mgmt, mgmt.id, *meet)
    assert await d.wait_text(mgmt.id, "报到成功", after=n)


async def test_a_restart_in_the_middle_of_a_case_continues_cleanly(district):
    d, emu = district, district.emu
    citizen, number, chat, (lat, lon) = await accepted_case(d, 8004)
    await call(d, chat, ["区城管局"])
    dept = d.dept_chat("city_mgmt")
    card = await d.wait_button(dept, "响应")
    await d.outbox_settled()
    await d.restart_bot()  # buttons carry ids only: the old cards keep working
    mgmt = d.staff_of("city_mgmt")
    q = await emu.tap(mgmt, dept, card["message_id"], card["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert (await answers(d, q))[0] == "已响应，请按时到场报到。"
    reply = await check_in(d, mgmt, card, lat, lon)
    assert reply["text"].startswith("报到成功")
    street_card = next(m for m in emu.messages(chat) if m.get("photo"))
    await emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="after"), caption="已处理",
                               reply_to_message_id=street_card["message_id"])
    assert await d.wait_text(chat, "已办结，等待群众评价")
    async with d.core.sessions() as s:
        kinds = [e.kind for e in await s.scalars(select(Event).order_by(Event.id))]
    assert kinds.count("answered") == 1 and kinds.count("checked_in") == 1 and kinds[-1] == "resolved"


async def test_a_city_unit_is_followed_up_by_its_tracking_department(district):
    d, emu = district, district.emu
    citizen, number, chat, (lat, lon) = await accepted_case(d, citizen_id=8005)
    assert await call(d, chat, ["福州水务集团"]) == "已呼叫。"

    # the city unit gets the working card; the district water bureau a tracking card with no buttons
    unit, tracker = d.dept_chat("water_co"), d.dept_chat("water")
    card = await d.wait_button(unit, "响应")
    tracking = await emu.wait_for(lambda: next((m for m in emu.messages(tracker) if m.get("photo")), None))
    assert f"跟踪 {number}：市直单位 福州水务集团" in tracking["caption"]
    assert not tracking.get("reply_markup")
    assert number in card["caption"] and "跟踪" not in card["caption"]

    # a lapse of the city unit's answer deadline is told to the tracker as well
    d.clock.advance(minutes=10, seconds=1)
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()
    for group in (unit, tracker):
        assert any("福州水务集团「响应呼叫」已超时" in (m.get("text") or "") for m in emu.messages(group)), group

    # the answer reaches the street and the tracker, and the tracking card is edited, still without buttons
    q = await d.tap_last(d.staff_of("water_co"), unit, "响应")
    assert (await answers(d, q))[0] == "已响应，请按时到场报到。"
    assert await d.wait_text(chat, "福州水务集团 已响应")
    assert await d.wait_text(tracker, "福州水务集团 已响应")
    edited = await emu.wait_for(lambda: next((m for m in emu.messages(tracker)
                                              if m["message_id"] == tracking["message_id"]
                                              and "响应: " in (m.get("caption") or "")), None))
    assert not edited.get("reply_markup")

    # the tracker follows up but cannot check in for the unit; the unit's own staff can
    url = next(b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b.get("url"))
    await d.text(d.staff_of("water"), "/start " + url.split("start=")[1])
    assert await d.wait_text(d.staff_of("water").id, "只有该部门群的成员可以报到。")
    ok = await check_in(d, d.staff_of("water_co"), card, lat, lon)
    assert ok["text"].startswith("报到成功")
    assert await d.wait_text(tracker, "已到场报到")


@pytest.fixture
async def many_departments(cfg, clock, tmp_path):
    """The demo district with 45 departments (Gulou has 96): the picker pages, and the selection's bit
    mask outgrows the 11 digits other button ids are held to."""
    from bot.config import DepartmentCfg
    from demo.district import District
    cfg.departments += [DepartmentCfg(key=f"unit{i}", zh=f"区单位{i}", en=f"Unit {i}", chat_id=-1009100000000 - i)
                        for i in range(6, 46)]
    async with District(cfg, tmp_path, clock=clock) as d:
        yield d


async def test_the_department_picker_pages_and_keeps_the_choice_across_pages(many_departments):
    d, emu = many_departments, many_departments.emu
    _citizen, number, chat, _ = await accepted_case(d, 8101)
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "呼叫部门")
    picker = await d.wait_button(chat, "⬜ 区城管局")
    assert "第 1/5 页" in picker["text"]
    labels = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]
    assert len([x for x in labels if x.startswith("⬜")]) == 10 and "下一页 ▶" in labels
    await d.tap_last(handler, chat, "上一页")  # round to the last page
    await d.wait_button(chat, "⬜ 区单位45")
    await d.tap_last(handler, chat, "⬜ 区单位45")
    picker = await d.wait_button(chat, "☑️ 区单位45")
    assert "第 5/5 页" in picker["text"] and "已选：区单位45" in picker["text"]
    await d.tap_last(handler, chat, "下一页")  # round to the first page, the choice kept
    await d.wait_button(chat, "⬜ 区城管局")
    await d.tap_last(handler, chat, "⬜ 区城管局")
    picker = await d.wait_button(chat, "☑️ 区城管局")
    assert "已选：区城管局、区单位45" in picker["text"]
    assert len([m for m in emu.messages(chat) if "选择要呼叫的部门" in (m.get("text") or "")]) == 1, "edited in place"
    assert all(len(b["callback_data"].encode()) <= 64 for row in picker["reply_markup"]["inline_keyboard"]
               for b in row)
    q = await d.tap_last(handler, chat, "1小时内")
    assert "已呼叫" in (await answers(d, q))[0]
    for key in ("city_mgmt", "unit45"):
        card = await d.wait_text(d.dept_chat(key), number)
        assert card["reply_markup"]["inline_keyboard"], key
    async with d.core.sessions() as s:
        assert sorted(c.department for c in await s.scalars(select(Call))) == ["city_mgmt", "unit45"]


async def test_a_double_tap_on_a_picker_button_is_harmless(district, caplog):
    d, emu = district, district.emu
    _citizen, _number, chat, _ = await accepted_case(d, 8102)
    handler = d.handler_of(STREET)
    await d.tap_last(handler, chat, "呼叫部门")
    picker = await d.wait_button(chat, "⬜ 区城管局")
    data = next(b["callback_data"] for row in picker["reply_markup"]["inline_keyboard"] for b in row
                if b["text"] == "⬜ 区城管局")
    first = await emu.tap(handler, chat, picker["message_id"], data)
    second = await emu.tap(handler, chat, picker["message_id"], data)  # the same button, twice
    await answers(d, first, second)
    assert all(not (d.emu.callback_answers[q].get("show_alert")) for q in (first, second)), "no error alert"
    await d.wait_button(chat, "☑️ 区城管局")
    await d.tap_last(handler, chat, "⬜ 区建设局")  # handled after both taps: a chat's updates go in order
    picker = await d.wait_button(chat, "☑️ 区建设局")
    assert "已选：区城管局、区建设局" in picker["text"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "the second tap is no error"

"""Issue 11: membership gaps — approving an extension and assigning a difficult case check membership like
every other group tap; a restricted user who left the group is no member."""

from __future__ import annotations

import copy

from sqlalchemy import select

from demo.district import District
from emulator.images import jpeg
from storage.models import Case, Extension

from .test_escalations import STREET, accepted, answer_of, ask, called


async def test_a_non_members_approve_of_an_extension_is_refused(district):
    d = district
    chat = await accepted(d, 9801)
    await called(d, chat)
    await ask(d, d.staff_of("city_mgmt"), d.dept_chat("city_mgmt"), "延期", "延4小时", "需要调配挖掘机")
    request = await d.wait_button(chat, "批准")
    stranger = d.emu.user(9899, "Stranger")  # not in the street's group
    q = await d.emu.tap(stranger, chat, request["message_id"],
                        request["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert await answer_of(d, q) == "只有本案属地群的成员可以操作。"
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Extension))).status == "pending"
    q = await d.tap_last(d.handler_of(STREET), chat, "批准")  # a member's approve still works
    assert await answer_of(d, q) == "已处理。"


async def test_a_non_member_cannot_assign_a_difficult_case_in_the_command_centre(cfg, clock, tmp_path):
    cfg = copy.deepcopy(cfg)
    cfg.escalation.duty_leaders = []  # then the command centre assigns
    async with District(cfg, tmp_path, clock=clock) as d:
        chat = await accepted(d, 9802)
        await d.tap_last(d.handler_of(STREET), chat, "疑难件")
        command = d.cfg.command_center.chat_id
        card = await d.wait_button(command, "区建设局")
        button = next(b for row in card["reply_markup"]["inline_keyboard"] for b in row if "区建设局" in b["text"])
        q = await d.emu.tap(d.emu.user(9898, "Stranger"), command, card["message_id"], button["callback_data"])
        assert await answer_of(d, q) == "只有本案属地群的成员可以操作。"
        q = await d.tap_last(d.staff[command][0], command, "区建设局")
        assert await answer_of(d, q) == "已指定。"


async def test_a_restricted_member_who_left_is_not_a_member(district):
    d = district
    chat = d.street_chat(STREET)
    gone, still = d.emu.user(9803, "Left, restricted"), d.emu.user(9804, "Restricted, still here")
    d.emu.add_member(chat, gone)
    d.emu.add_member(chat, still)
    d.emu.restrict(chat, gone, is_member=False)
    d.emu.restrict(chat, still, is_member=True)
    await d.report(d.citizen(9805), jpeg(), *d.core.streets.representative_point(STREET))
    await d.wait_button(chat, "接单")
    q = await d.tap_last(gone, chat, "接单")
    assert await answer_of(d, q) == "只有本案属地群的成员可以操作。"
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "routed"
    q = await d.tap_last(still, chat, "接单")
    assert await answer_of(d, q) == "接单成功，您是经办人。"

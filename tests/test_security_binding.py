"""Issue 11: /bind codes of 80 bits that expire, are used once and cannot be guessed; only a group's creator or
administrators bind it; moving a unit to another group needs the command centre; /unbind and /revoke."""

from __future__ import annotations

import base64

from sqlalchemy import select

from bot.app import make_bind_code
from bot.cli import revoke_worker
from cases.bindguard import new_code
from emulator.images import jpeg
from storage.models import Binding, BindRequest, Case

STREET, GRID = "温泉街道", "温泉街道01网格"


def texts(emu, chat) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in emu.messages(chat)]


async def code_now(d, kind="street", target=STREET) -> str:
    """A code made at the district's (fake) time."""
    return await d.core.db.write(lambda s: new_code(s, kind, target, d.clock.now()))


async def answer_of(d, q):
    await d.emu.wait_for(lambda: q in d.emu.callback_answers)
    return d.emu.callback_answers[q].get("text")


async def test_codes_have_80_bits(district):
    codes = {await make_bind_code(district.cfg, "street", STREET) for _ in range(20)}
    assert len(codes) == 20
    assert all(len(base64.b32decode(c)) * 8 >= 64 for c in codes)


async def test_an_expired_code_binds_nothing(district):
    d, emu = district, district.emu
    code = await code_now(d)
    admin = emu.user(6601, "Admin")
    emu.group(-1009601, "新群", admins=[admin])
    d.clock.advance(hours=24, minutes=1)  # binding.code_ttl: 24h
    await emu.send_text(admin, -1009601, f"/bind {code}")
    assert await d.wait_text(-1009601, "绑定码无效、已使用或已过期")
    await d.outbox_settled()
    assert not any("改绑" in x for x in texts(emu, d.cfg.command_center.chat_id))
    async with d.core.sessions() as s:
        assert await s.scalar(select(BindRequest)) is None and await s.scalar(select(Binding)) is None


async def test_wrong_guesses_are_throttled_per_chat_and_per_user(district):
    d, emu = district, district.emu
    code = await code_now(d)
    guesser, other = emu.user(6602, "Guesser"), emu.user(6603, "Other admin")
    emu.group(-1009602, "猜码群", admins=[guesser, other])
    emu.group(-1009603, "另一群", admins=[guesser])
    for i in range(5):
        await emu.send_text(guesser, -1009602, f"/bind AAAAAAAAAAAAAAA{i}")
        await d.wait_text(-1009602, "无效", after=i)
    # the chat is throttled, for everyone in it, even with the right code
    await emu.send_text(other, -1009602, f"/bind {code}")
    assert await d.wait_text(-1009602, "尝试次数过多", after=5)
    # and the user, in another chat
    await emu.send_text(guesser, -1009603, f"/bind {code}")
    assert await d.wait_text(-1009603, "尝试次数过多")
    # an hour later they may try again
    d.clock.advance(hours=1, minutes=1)
    await emu.send_text(guesser, -1009603, f"/bind {code}")
    assert await d.wait_text(-1009603, "需要指挥中心确认")


async def test_only_the_creator_or_an_administrator_binds_a_group(district):
    d, emu = district, district.emu
    command = d.cfg.command_center.chat_id
    await emu.send_text(d.staff[command][0], command, "/unbind grid 鼓东街道01网格")
    await d.wait_text(command, "已解绑")  # a grid cell with no group now: binding it needs no confirmation
    code = await code_now(d, "grid", "鼓东街道01网格")
    member, creator = emu.user(6604, "Member"), emu.user(6605, "Creator")
    emu.group(-1009604, "网格新群", members=[member])
    emu.make_owner(-1009604, creator)
    await emu.send_text(member, -1009604, f"/bind {code}")
    assert await d.wait_text(-1009604, "只有群主或管理员可以绑定本群")
    await emu.send_text(creator, -1009604, f"/bind {code}")  # the member's try did not use the code up
    assert await d.wait_text(-1009604, "本群已绑定：鼓东街道01网格")
    assert d.core.directory.grid_chats["鼓东街道01网格"] == -1009604


async def test_a_rebind_waits_for_the_command_centre_and_tells_both_groups(district):
    d, emu = district, district.emu
    command, old = d.cfg.command_center.chat_id, d.street_chat(STREET)
    officer = d.staff[command][0]
    admin = emu.user(6606, "Stranger admin")
    emu.group(-1009606, "陌生群", admins=[admin])
    await emu.send_text(admin, -1009606, f"/bind {await code_now(d)}")
    assert await d.wait_text(-1009606, "需要指挥中心确认")
    request = await d.wait_button(command, "确认改绑")
    assert "温泉街道" in request["text"] and "陌生群" in request["text"] and str(old) in request["text"]
    # until confirmed, the street's cases still go to its group
    await d.report(d.citizen(9611), jpeg(label="a"), *d.core.streets.representative_point(STREET))
    await d.wait_button(old, "接单")
    assert not [m for m in emu.messages(-1009606) if m.get("photo")]
    # refused: the street stays; the new group is told
    q = await d.tap_last(officer, command, "拒绝")
    assert await answer_of(d, q) == "已拒绝。"
    assert await d.wait_text(-1009606, "指挥中心未同意")
    assert d.core.directory.street_chats[STREET] == old
    # asked again and confirmed: the old group and the command centre are told
    await emu.send_text(admin, -1009606, f"/bind {await code_now(d)}")
    await d.wait_text(-1009606, "需要指挥中心确认", after=2)
    stranger = emu.user(6607, "Not in the command centre")
    request = await d.wait_button(command, "确认改绑")
    q = await emu.tap(stranger, command, request["message_id"],
                      request["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert await answer_of(d, q) == "只有本案属地群的成员可以操作。"
    q = await d.tap_last(officer, command, "确认改绑")
    assert await answer_of(d, q) == "已确认。"
    assert await d.wait_text(-1009606, "本群已绑定：温泉街道")
    assert await d.wait_text(old, "今后改用群 -1009606")
    assert await d.wait_text(command, "已确认：温泉街道 由群")
    await d.report(d.citizen(9612), jpeg(label="b"), *d.core.streets.representative_point(STREET))
    await d.wait_button(-1009606, "接单")


async def test_unbind_from_the_command_centre(district):
    d, emu = district, district.emu
    command, old = d.cfg.command_center.chat_id, d.street_chat(STREET)
    handler = d.handler_of(STREET)
    await emu.send_text(handler, old, f"/unbind street {STREET}")  # not the command centre
    assert await d.wait_text(old, "只能在指挥中心群使用")
    officer = d.staff[command][0]
    await emu.send_text(officer, command, f"/unbind street {STREET}")
    assert await d.wait_text(command, "已解绑：温泉街道")
    assert await d.wait_text(old, "指挥中心已解绑本群与 温泉街道")
    await d.report(d.citizen(9613), jpeg(label="c"), *d.core.streets.representative_point(STREET))
    await d.outbox_settled()
    assert not [m for m in emu.messages(old) if m.get("photo")]  # no group: the case waits for the command centre
    async with d.core.sessions() as s:
        assert (await s.scalar(select(Case))).state == "unrouted"
    await d.restart_bot()  # the unbinding lives in the database: config.yaml's chat id does not come back
    assert d.core.directory.street_chats[STREET] is None
    # a new group binds at once (nothing to move away from)
    admin = emu.user(6608, "New admin")
    emu.group(-1009608, "温泉新群", admins=[admin])
    await emu.send_text(admin, -1009608, f"/bind {await code_now(d)}")
    assert await d.wait_text(-1009608, "本群已绑定：温泉街道")


async def fast_report_starts(d, worker, chat) -> bool:
    """Does a photo from `worker` in the grid group start a (fast) draft?"""
    n = len(d.emu.messages(chat))
    await d.emu.send_photo(worker, chat, jpeg(label=f"w{n}"))
    await d.outbox_settled()
    await d.emu.send_text(worker, chat, "/cancel")
    await d.emu.wait_for(lambda: any("已取消" in x or "没有进行中" in x for x in texts(d.emu, chat)[n:]))
    return any("请发送位置" in x for x in texts(d.emu, chat)[n:])


async def test_revoke_a_grid_worker_from_the_command_centre_and_the_command_line(district):
    d, emu = district, district.emu
    chat, command = d.grid_chat(GRID), d.cfg.command_center.chat_id
    worker, mate = d.staff[chat]
    assert await fast_report_starts(d, worker, chat)
    officer = d.staff[command][0]
    await emu.send_text(officer, command, f"/revoke {worker.id}")
    assert await d.wait_text(command, f"已撤销网格员 {worker.id}（{GRID}）")
    assert not await fast_report_starts(d, worker, chat)
    # the command line, from another process, while the bot runs: the next report already counts it
    assert await fast_report_starts(d, mate, chat)
    assert await revoke_worker(d.cfg, mate.id) == GRID
    assert not await fast_report_starts(d, mate, chat)
    # in private too, even for a draft begun before the revocation: a revoked worker's report is a
    # citizen's (a confirm step, no grid credited)
    lat, lon = d.core.grids.representative_point(GRID)
    third = d.staff[d.grid_chat("鼓东街道01网格")][0]
    await emu.send_photo(third, third.id, jpeg(label="p"))
    await d.wait_text(third.id, "请发送位置")
    assert await revoke_worker(d.cfg, third.id) == "鼓东街道01网格"
    await emu.send_location(third, third.id, lat, lon)
    await d.wait_button(third.id, "垃圾堆放")
    await d.tap_last(third, third.id, "垃圾堆放")
    assert await d.wait_button(third.id, "跳过")
    await emu.send_photo(mate, mate.id, jpeg(label="p"))
    await emu.send_location(mate, mate.id, lat, lon)
    await d.wait_button(mate.id, "垃圾堆放")
    await d.tap_last(mate, mate.id, "垃圾堆放")
    assert await d.wait_button(mate.id, "跳过")
    await d.restart_bot()
    assert worker.id not in d.core.directory.grid_workers and mate.id not in d.core.directory.grid_workers


async def test_a_rebind_request_not_decided_within_the_code_ttl_lapses(district):
    d, emu = district, district.emu
    command, old = d.cfg.command_center.chat_id, d.street_chat(STREET)
    admin = emu.user(6609, "Admin")
    emu.group(-1009609, "新群", admins=[admin])
    await emu.send_text(admin, -1009609, f"/bind {await code_now(d)}")
    await d.wait_button(command, "确认改绑")
    d.clock.advance(hours=24, minutes=1)
    q = await d.tap_last(d.staff[command][0], command, "确认改绑")
    assert await answer_of(d, q) == "这个按钮已失效。"
    assert d.core.directory.street_chats[STREET] == old

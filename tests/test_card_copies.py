"""A card sent twice (its send timed out after it had arrived, or the process was killed right after
it) must not become a trap: whichever copy a handler taps or replies to works and is kept up to date."""

import re

from sqlalchemy import select

from emulator.images import jpeg
from storage.models import Card

STREET = "温泉街道"
ACCEPTED = ["✅ 办结", "📣 呼叫部门", "⏳ 延期", "❗ 疑难件", "↩️ 非本辖区", "📍 到场"]


def labels(msg: dict | None) -> list[str]:
    return [b["text"] for row in ((msg or {}).get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def button(msg: dict, label: str) -> str:
    return next(b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row if label in b["text"])


async def twice_sent_card(d, citizen_id: int):
    """A report whose street card's sendPhoto takes effect but answers after the 5 s read timeout."""
    emu, chat = d.emu, d.street_chat(STREET)
    emu.delay_next("sendPhoto", 6, then_timeout=True)
    point = d.core.streets.representative_point(STREET)
    receipt = await d.report(d.citizen(citizen_id), jpeg(label=str(citizen_id)), *point)
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)
    cards = await emu.wait_for(lambda: (c := [m for m in emu.messages(chat) if m.get("photo")]) and len(c) == 2 and c,
                               timeout=20)
    assert all(number in m["caption"] and labels(m) == ["✋ 接单"] for m in cards)
    await d.outbox_settled()
    return number, chat, [m["message_id"] for m in cards]


async def answer(d, q):
    await d.emu.wait_for(lambda: q in d.emu.callback_answers)
    return d.emu.callback_answers[q].get("text")


async def street_cards(d):
    async with d.core.sessions() as s:
        return sorted(c.message_id for c in await s.scalars(select(Card).where(Card.kind == "street")))


async def test_a_tap_on_the_copy_the_bot_never_heard_of_updates_both_copies(district):
    d, emu = district, district.emu
    number, chat, (first, second) = await twice_sent_card(d, 6101)
    assert await street_cards(d) == [second], "only the copy whose send was answered is known"
    handler = d.handler_of(STREET)
    q = await emu.tap(handler, chat, first, button(emu.message(chat, first), "接单"))
    assert await answer(d, q) == "接单成功，您是经办人。"
    await emu.wait_for(lambda: all(labels(emu.message(chat, m)) == ACCEPTED for m in (first, second)), timeout=10)
    assert all("✅ 已接单" in emu.message(chat, m)["caption"] for m in (first, second))
    assert await street_cards(d) == [first, second]
    # and a reply with the after photo to that copy resolves the case; both copies say so
    await emu.send_photo_reply(handler, chat, jpeg(label="after"), caption="已修复", reply_to_message_id=first)
    assert await d.wait_text(chat, "已办结，等待群众评价")
    await emu.wait_for(lambda: all("✅ 已办结" in emu.message(chat, m)["caption"] for m in (first, second)))


async def test_a_reply_to_the_unknown_copy_resolves_and_brings_it_up_to_date(district):
    d, emu = district, district.emu
    number, chat, (first, second) = await twice_sent_card(d, 6102)
    handler = d.handler_of(STREET)
    q = await emu.tap(handler, chat, second, button(emu.message(chat, second), "接单"))  # on the known copy
    assert await answer(d, q) == "接单成功，您是经办人。"
    await emu.wait_for(lambda: labels(emu.message(chat, second)) == ACCEPTED)
    assert labels(emu.message(chat, first)) == ["✋ 接单"]  # the unknown copy: nobody has touched it yet
    await emu.send_photo_reply(handler, chat, jpeg(label="after"), caption="已补装井盖", reply_to_message_id=first)
    assert await d.wait_text(chat, "已办结，等待群众评价")
    await emu.wait_for(lambda: all("已补装井盖" in emu.message(chat, m)["caption"] and not labels(emu.message(chat, m))
                                   for m in (first, second)), timeout=10)
    assert await street_cards(d) == [first, second]


async def test_a_bot_message_that_is_no_card_is_never_taken_for_one(district):
    """A reply to a bot message that is no card changes nothing and records nothing."""
    d, emu = district, district.emu
    chat = d.street_chat(STREET)
    receipt = await d.report(d.citizen(6103), jpeg(), *d.core.streets.representative_point(STREET))
    assert "GL-" in receipt["text"]
    venue = await emu.wait_for(lambda: next((m for m in emu.messages(chat) if m.get("venue")), None))
    notice = venue  # a bot message that is no card (it carries no title)
    await emu.send_photo_reply(d.handler_of(STREET), chat, jpeg(label="after"), caption="修好了",
                               reply_to_message_id=notice["message_id"])
    await d.outbox_settled()
    assert len(await street_cards(d)) == 1


# ---- the same after a SIGKILL: the bot is a subprocess (python -m bot), killed while the card's
# sendPhoto has arrived but is not answered yet; after the restart it posts the card again.
async def test_a_copy_left_by_a_sigkill_right_after_the_card_arrived_still_works(tmp_path, cfg):
    import asyncio
    import os
    import signal
    import sys

    import yaml

    from bot.app import load_streets
    from demo.district import District

    from .conftest import ROOT
    d = District(cfg, tmp_path)
    emu = d.emu
    await emu.start()
    d._make_groups()
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["telegram"] = {"base_url": emu.base_url, "base_file_url": emu.base_file_url}
    data["database"] = {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"}
    data["media"]["dir"] = str(tmp_path / "media")
    data["geo"]["streets_file"] = str(ROOT / data["geo"]["streets_file"])
    data["geo"]["grids_file"] = str(ROOT / data["geo"]["grids_file"])
    path = tmp_path / "bot.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emu.token}

    async def start():
        n = len(emu.calls_to("setMyCommands"))
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(path), cwd=ROOT,
                                                    env=env, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        await emu.wait_for(lambda: len(emu.calls_to("setMyCommands")) > n, timeout=30)
        return proc

    proc = await start()
    try:
        chat, citizen = d.street_chat(STREET), d.citizen(6201)
        emu.delay_next("sendPhoto", 60, then_timeout=True)  # stored at once, answered a minute later
        await emu.send_photo(citizen, citizen.id, jpeg())
        await emu.wait_for(lambda: emu.messages(citizen.id))
        await emu.send_location(citizen, citizen.id, *load_streets(d.cfg).representative_point(STREET))
        for label in ("道路破损", "跳过", "确认"):
            msg = await d.wait_button(citizen.id, label, timeout=10)
            await emu.tap(citizen, citizen.id, msg["message_id"], button(msg, label))
        first = await emu.wait_for(lambda: next((m for m in emu.messages(chat) if m.get("photo")), None), timeout=10)
        proc.kill()  # SIGKILL while the card's answer is held: the bot never learns the message id
        await proc.wait()
        proc = await start()
        await emu.wait_for(lambda: len([m for m in emu.messages(chat) if m.get("photo")]) == 2, timeout=20)
        second = [m for m in emu.messages(chat) if m.get("photo")][1]
        q = await emu.tap(d.handler_of(STREET), chat, first["message_id"], button(first, "接单"))
        await emu.wait_for(lambda: q in emu.callback_answers, timeout=10)
        assert emu.callback_answers[q]["text"] == "接单成功，您是经办人。"
        await emu.wait_for(lambda: all(labels(emu.message(chat, m["message_id"])) == ACCEPTED
                                       for m in (first, second)), timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
        await emu.stop()



async def test_a_call_card_sent_twice_works_from_the_unknown_copy(district):
    from .test_disposal import accepted_case, call
    d, emu = district, district.emu
    citizen, number, chat, _ = await accepted_case(d, 6104)
    dchat, staff = d.dept_chat("city_mgmt"), d.staff_of("city_mgmt")
    emu.delay_next("sendPhoto", 6, then_timeout=True)  # the call card arrives, its answer comes too late
    assert await call(d, chat, ["区城管局"]) == "已呼叫。"
    cards = await emu.wait_for(lambda: (c := [m for m in emu.messages(dchat) if m.get("photo")]) and len(c) == 2 and c,
                               timeout=20)
    first, second = (m["message_id"] for m in cards)
    await d.outbox_settled()
    q = await emu.tap(staff, dchat, first, button(emu.message(dchat, first), "响应"))
    assert await answer(d, q) == "已响应，请按时到场报到。"
    await emu.wait_for(lambda: all("响应" not in labels(emu.message(dchat, m)) and "已响应" in
                                   emu.message(dchat, m)["caption"] for m in (first, second)), timeout=10)
    # a note by reply to that copy reaches the street
    await emu.send_text(staff, dchat, "马上到", reply_to_message_id=first)
    assert await d.wait_text(chat, "马上到")

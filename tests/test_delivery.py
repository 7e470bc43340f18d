"""The outbox: Telegram's limits, 429 and 5xx during delivery, a restart with pending rows."""

import asyncio
import re

from sqlalchemy import select

from bot.delivery import RateLimiter
from emulator.images import jpeg
from storage.models import Card, Outbox
from storage.placed import CardPlaced, Sent

STREET = "温泉街道"


def test_rate_limiter_holds_telegram_limits():
    lim = RateLimiter(private_interval=1.0, group_window=60.0, second_window=1.0)  # Telegram's exact figures
    group, private = -100, 42
    t = 1000.0
    for i in range(20):
        assert lim.wait(group, t + i) == 0
        lim.record(group, t + i)
    assert lim.wait(group, t + 20) == 40  # the 21st group message waits for the first to age out
    assert lim.wait(group, t + 60.0) == 0
    lim.record(private, t)
    assert lim.wait(private, t + 0.25) == 0.75
    assert lim.wait(private + 1, t + 0.25) == 0  # another chat is not held
    burst = RateLimiter(second_window=1.0)
    for i in range(30):
        burst.record(i + 1, t)
    assert burst.wait(99, t + 0.5) == 0.5  # 30 per second overall
    burst.pause(None, 3, t)
    assert burst.wait(99, t + 1) == 2


def test_blocked_lists_the_chats_that_must_wait_and_forgets_idle_ones():
    lim = RateLimiter(private_interval=1.0, group_window=60.0, second_window=1.0)
    t = 1000.0
    for i in range(20):
        lim.record(-100, t + i)
    lim.record(42, t + 19.5)
    assert lim.blocked(t + 19.6) == [-100, 42]
    assert lim.blocked(t + 21) == [-100]  # the private chat may send again after its second
    assert lim.blocked(t + 61) == []  # the group's first message has aged out
    assert 42 not in lim.by_chat and -100 in lim.by_chat
    assert lim.blocked(t + 200) == [] and lim.by_chat == {}  # idle for a whole window: forgotten


async def test_a_group_backlog_does_not_starve_private_replies(district):
    """Fourteen cards for one street exceed its 20 messages a minute; the citizens' receipts, queued
    behind the held cards, still go out at once (the batch skips chats that must wait)."""
    d, emu = district, district.emu
    d.app.bot_data["delivery"].batch = 2  # a small batch: the held cards alone would fill it
    chat, point = d.street_chat(STREET), d.core.streets.representative_point(STREET)
    for i in range(14):
        receipt = await d.report(d.citizen(4100 + i), jpeg(label=str(i)), *point)  # waits for the receipt
        assert "GL-" in receipt["text"]
    assert emu.max_rate(chat, 60.0) <= 20
    held = [r for r in await rows(d) if r.status == "pending" and r.chat_id == chat]
    assert held, "some cards wait for the group's minute to pass"


async def rows(d):
    async with d.core.sessions() as s:
        return list(await s.scalars(select(Outbox).order_by(Outbox.id)))


async def test_429_is_waited_out_and_the_card_sent_once(district):
    d, emu = district, district.emu
    emu.fail_next("sendPhoto", status=429, retry_after=1)
    await d.report(d.citizen(4001), jpeg(), *d.core.streets.representative_point(STREET))
    chat = d.street_chat(STREET)
    await emu.wait_for(lambda: any(m.get("venue") for m in emu.messages(chat)), timeout=10)
    assert len([m for m in emu.messages(chat) if m.get("photo")]) == 1
    card_row = next(r for r in await d.outbox_settled() if r.kind == "street_card")
    assert card_row.status == "sent" and "429 retry after 1.0s" in card_row.log[0]
    assert [c.method for c in emu.calls if c.method == "sendPhoto" and c.response.get("ok")] == ["sendPhoto"]


async def test_5xx_is_retried_and_finished_steps_are_not_repeated(district):
    d, emu = district, district.emu
    emu.fail_next("sendVenue", status=502, count=2)
    await d.report(d.citizen(4002), jpeg(), *d.core.streets.representative_point(STREET))
    chat = d.street_chat(STREET)
    await emu.wait_for(lambda: any(m.get("venue") for m in emu.messages(chat)), timeout=10)
    assert len([m for m in emu.messages(chat) if m.get("photo")]) == 1, "the photo is not sent again"
    card_row = next(r for r in await d.outbox_settled() if r.kind == "street_card")
    assert card_row.status == "sent" and card_row.attempts == 2
    assert card_row.payload["done"] == ["card", "place"]


async def test_restart_with_pending_outbox_rows(district):
    d, emu = district, district.emu
    emu.fail_next("sendPhoto", status=502, count=1000)
    citizen = d.citizen(4003)
    await d.report(citizen, jpeg(), *d.core.streets.representative_point(STREET))

    async def attempted():
        return any(r.kind == "street_card" and r.attempts >= 1 for r in await rows(d))
    for _ in range(200):
        if await attempted():
            break
        await asyncio.sleep(0.02)
    await d.stop_bot()
    pending = [r for r in await _rows_after_stop(d) if r.status == "pending"]
    assert [r.kind for r in pending] == ["street_card"]
    emu.clear_faults()
    await d.start_bot()
    chat = d.street_chat(STREET)
    await emu.wait_for(lambda: any(m.get("venue") for m in emu.messages(chat)), timeout=10)
    assert len([m for m in emu.messages(chat) if m.get("photo")]) == 1
    assert all(r.status == "sent" for r in await d.outbox_settled())


async def _rows_after_stop(d):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from storage.db import make_engine
    engine = make_engine(d.cfg.database.url)
    try:
        async with async_sessionmaker(engine)() as s:
            return list(await s.scalars(select(Outbox).order_by(Outbox.id)))
    finally:
        await engine.dispose()


async def test_start_up_survives_a_bot_api_that_is_briefly_down(cfg, clock, tmp_path):
    from demo.district import District
    d = District(cfg, tmp_path, clock=clock)
    await d.emu.start()
    d.emu.set_down(True)
    d.start = None  # we drive the steps by hand
    d.cfg.telegram.base_url, d.cfg.telegram.base_file_url = d.emu.base_url, d.emu.base_file_url
    if "sqlite" in d.cfg.database.url:
        d.cfg.database.url = f"sqlite+aiosqlite:///{tmp_path / 'f.sqlite3'}"
    d.cfg.media.dir = tmp_path / "media"
    d._make_groups()
    starting = asyncio.create_task(d.start_bot())
    # the outage we are surviving: the bot reaches getMe (after its migrations, slower on a busy
    # machine) and must still be trying a while later
    await d.emu.wait_for(lambda: any(c.method == "getMe" for c in d.emu.calls), timeout=30)
    await asyncio.sleep(1.2)
    assert not starting.done()
    failed = [c for c in d.emu.calls if c.method == "getMe"]
    assert failed and all(c.response.get("error_code") == 502 for c in failed)
    d.emu.set_down(False)
    await asyncio.wait_for(starting, 10)
    try:
        citizen = d.citizen(4004)
        await d.text(citizen, "/start")
        assert await d.wait_text(citizen.id, "一线呼叫")
    finally:
        await d.stop()


async def test_a_chat_keeps_its_order_while_its_first_message_waits_to_be_retried(district):
    """The first card to a street fails (502) and waits for its retry; the second case's card to the
    same street must not overtake it."""
    d, emu = district, district.emu
    chat, point = d.street_chat(STREET), d.core.streets.representative_point(STREET)
    emu.fail_next("sendPhoto", status=502, count=1)
    first = await d.report(d.citizen(4201), jpeg(label="first"), *point)
    second = await d.report(d.citizen(4202), jpeg(label="second"), *point)
    await emu.wait_for(lambda: len([m for m in emu.messages(chat) if m.get("photo")]) == 2, timeout=10)
    numbers = [_number(first), _number(second)]
    captions = [m["caption"] for m in emu.messages(chat) if m.get("photo")]
    assert [next(n for n in numbers if n in c) for c in captions] == numbers
    card_rows = [r for r in await d.outbox_settled() if r.kind == "street_card"]
    assert [r.attempts for r in card_rows] == [1, 0]


def _number(receipt: dict) -> str:
    return re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)


async def test_a_cards_place_is_written_with_its_step_and_kept_when_a_later_step_fails(district):
    """Rendering writes nothing: the card step returns where the card went, and the delivery worker
    writes it in the transaction that records the step done. A venue refused for good (403) after it
    fails the row, not the card: the card's place is known, so its buttons and refreshes work."""
    d, emu = district, district.emu
    emu.fail_next("sendVenue", status=403, count=1)
    await d.report(d.citizen(4005), jpeg(), *d.core.streets.representative_point(STREET))
    chat = d.street_chat(STREET)
    card_row = next(r for r in await d.outbox_settled() if r.kind == "street_card")
    assert card_row.status == "failed" and card_row.payload["done"] == ["card"]
    card = next(m for m in emu.messages(chat) if m.get("photo"))
    async with d.core.sessions() as s:
        cards = (await s.scalars(select(Card).where(Card.chat_id == chat))).all()
    assert [(c.kind, c.message_id, c.caption) for c in cards] == [("street", card["message_id"], True)]
    await d.tap_last(d.handler_of(STREET), chat, "接单")  # the card found by its place answers the tap
    await d.wait_button(chat, "办结")
    # Rendering and sending the card again, with the database closed to writes: it says where the card went.
    renderer = d.app.bot_data["delivery"].renderer

    async def no_writes(*_args):
        raise AssertionError("rendering wrote to the database")
    d.core.db.write = no_writes
    try:
        step = next(s for s in await renderer.steps(card_row) if s.name == "card")
        sent = await step.run()
    finally:
        del d.core.db.write
    assert isinstance(sent, Sent)
    assert sent.learned == [CardPlaced(card_row.case_id, "street", chat, sent.message_ids[0], True, 0)]

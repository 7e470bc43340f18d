"""/stats, the scheduled reports and oversight, through the real bot and the emulator (uploads included)."""

import io

from openpyxl import load_workbook
from PIL import Image

from tests.test_disposal import accepted_case

COMMAND = -1001000000099


def uploads(d, chat):
    """(text messages, photos' bytes, documents (name, bytes)) the bot sent to a chat."""
    msgs = d.emu.messages(chat)
    texts = [m["text"] for m in msgs if m.get("text")]
    photos = [d.emu.files.by_id[m["photo"][-1]["file_id"]].data for m in msgs if m.get("photo")]
    docs = [(m["document"]["file_name"], d.emu.files.by_id[m["document"]["file_id"]].data)
            for m in msgs if m.get("document")]
    return texts, photos, docs


async def test_stats_in_the_command_centre_group_gives_text_charts_and_workbook(district):
    d = district
    citizen, number, chat, _ = await accepted_case(d)
    officer = d.staff[COMMAND][0]
    await d.emu.send_text(officer, COMMAND, "/stats 2026-W48")  # the week of Monday 2026-11-23
    await d.emu.wait_for(lambda: uploads(d, COMMAND)[2], timeout=30)
    texts, photos, docs = uploads(d, COMMAND)
    assert "正在生成 2026-W48" in texts[0]
    assert "【监督考核周报】2026-W48" in texts[1] and "收件 1，办结 0" in texts[1] and "温泉街道" in texts[1]
    assert len(photos) == 5
    for data in photos:
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "PNG" and img.width >= 600
    (name, data), = docs
    assert name == "2026-W48_assessment.xlsx"
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(wb["案件清单"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [number] and rows[1][1] == "温泉街道" and rows[1][4] == "办理中"


async def test_stats_refused_to_others_and_allowed_to_leaders(district):
    d = district
    await accepted_case(d)
    stranger = d.citizen(8100)
    await d.text(stranger, "/stats")
    assert await d.wait_text(stranger.id, "仅限指挥中心群、领导和监督人员")
    chat = d.street_chat("温泉街道")
    await d.emu.send_text(d.handler_of("温泉街道"), chat, "/stats month")
    assert await d.wait_text(chat, "仅限")
    deputy = d.emu.user(7001, "张伟")
    await d.text(deputy, "/stats next-year")
    assert await d.wait_text(7001, "用法：/stats")
    await d.text(deputy, "/stats week")  # the last complete week: 2026-W47, before the case
    await d.emu.wait_for(lambda: uploads(d, 7001)[2], timeout=30)
    assert "收件 0" in uploads(d, 7001)[0][-1]


async def test_oversight_reads_any_case_with_its_trace_and_acts_on_nothing(district):
    d = district
    citizen, number, chat, _ = await accepted_case(d)
    inspector = d.emu.user(7101, "监督员")
    await d.text(inspector, f"/case {number}")
    msg = await d.wait_text(7101, number)
    for part in ("reported [citizen]", "routed [system]", "accepted [handler]", "时限 respond", "met"):
        assert part in msg["text"], part
    assert not msg.get("reply_markup")
    other = d.citizen(8200)  # a citizen still sees only their own cases
    await d.text(other, f"/case {number}")
    assert "accepted [handler]" not in (await d.wait_text(other.id, ""))["text"]
    # the inspector is in no group: a tap on the street's card is refused
    card = await d.wait_button(chat, "办结")
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    q = await d.emu.tap(inspector, chat, card["message_id"], data)
    await d.emu.wait_for(lambda: q in d.emu.callback_answers)
    assert d.emu.callback_answers[q].get("text")  # an answer, not an action
    async with d.core.sessions() as s:
        from sqlalchemy import select

        from storage.models import Event
        kinds = [e.kind for e in await s.scalars(select(Event).where(Event.actor_id == 7101))]
    assert kinds == []


async def test_the_weekly_report_is_posted_to_the_command_centre_and_leaders(district):
    d = district
    for uid in (7001, 7002, 7003, 7101):
        d.emu.user(uid, f"leader {uid}")
    job = d.app.job_queue.get_jobs_by_name("report_weekly")[0]
    local = job.next_t.astimezone(d.cfg.tz)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)  # Monday 09:00
    assert d.app.job_queue.get_jobs_by_name("report_monthly")[0].next_t.astimezone(d.cfg.tz).day == 1
    await accepted_case(d)
    d.clock.advance(days=7)  # the next Monday: the week with the case has ended
    await job.run(d.app)
    for chat in (COMMAND, 7001, 7002, 7003, 7101):
        texts, photos, docs = uploads(d, chat)
        assert any("【监督考核周报】2026-W48" in t and "收件 1" in t for t in texts), chat
        assert len(photos) == 5 and docs[0][0] == "2026-W48_assessment.xlsx"


async def test_the_running_bot_keeps_its_start_up_objects_out_of_full_collections(cfg, clock, tmp_path):
    """A full collection walked everything the bot made at start (~100 ms on the benchmark's bot) and held a
    citizen's answer that long while a report ran; frozen at start, thawed at stop."""
    import gc

    from demo.district import District
    async with District(cfg, tmp_path, clock=clock) as d:
        assert gc.get_freeze_count() > 10_000  # the imports, the config, the application
        citizen = d.citizen(8001)
        await d.text(citizen, "/help")
        assert await d.emu.wait_for(lambda: d.emu.messages(citizen.id), 10)  # and it still answers
    assert gc.get_freeze_count() == 0

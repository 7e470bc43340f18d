"""The built-in demo: the real bot against the local Bot API emulator, printed as a transcript."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cases.clock import FakeClock
from demo.district import District
from emulator.images import jpeg


class Transcript:
    """Prints what people did and what the bot sent, in order."""

    def __init__(self, district: District):
        self.d = district
        self.seen = 0
        self.names = {s.chat_id: f"{s.name} group" for s in district.cfg.streets}
        self.names[district.cfg.command_center.chat_id] = "command centre group"

    def chat_name(self, chat_id: int) -> str:
        return self.names.get(chat_id, f"chat {chat_id}")

    def person(self, who: str, what: str) -> None:
        print(f"\n👤 {who}: {what}")

    def flush(self) -> None:
        for call in self.d.emu.calls[self.seen:]:
            line = describe(call)
            if line:
                chat = call.params.get("chat_id")
                where = self.chat_name(int(chat)) if chat not in (None, "") else ""
                print(f"   🤖 → {where}: {line}" if where else f"   🤖 {line}")
        self.seen = len(self.d.emu.calls)


def describe(call) -> str | None:
    p = call.params
    if not call.response.get("ok"):
        if "not modified" in call.response.get("description", ""):
            return None  # a card edit that found the card already up to date
        return f"({call.method} failed: {call.response.get('description')})"
    shown = call.response.get("result")
    shown = shown if isinstance(shown, dict) else p  # the text as Telegram shows it (HTML parsed)
    text = (shown.get("text") or shown.get("caption") or "").replace("\n", "\n        ")
    buttons = _buttons(p.get("reply_markup"))
    match call.method:
        case "sendMessage":
            return f"{text}{buttons}"
        case "sendPhoto":
            return f"[photo] {text}{buttons}"
        case "sendMediaGroup":
            return "[album of photos]"
        case "sendVenue":
            return f"[place] {p.get('title')} · {p.get('address')} ({p.get('latitude')}, {p.get('longitude')})"
        case "sendLocation":
            return f"[location] {p.get('latitude')}, {p.get('longitude')}"
        case "editMessageText" | "editMessageCaption":
            return f"(card edited) {text}{buttons}"
        case "editMessageReplyMarkup":
            return None
        case "answerCallbackQuery":
            return f"(answers the tap) {p.get('text') or ''}".rstrip()
    return None


def _buttons(markup) -> str:
    if isinstance(markup, str):
        import json
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard") or []
    labels = [b["text"] for row in rows for b in row]
    return ("\n        [" + "] [".join(labels) + "]") if labels else ""


async def run_demo(cfg, stay: bool = False) -> int:
    """stay: after the walk-through, keep the Open311 API up on api.port for curl (until Ctrl-C)."""
    with tempfile.TemporaryDirectory(prefix="frontline-demo-") as tmp:
        cfg = cfg.model_copy(deep=True)
        cfg.database.url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.sqlite3'}"
        # 核查结案 in the demo: a damaged road is verified on site by a grid worker before the citizen rates.
        next(c for c in cfg.categories if c.key == "road_damage").verify = "grid"
        os.environ.setdefault(DEMO_KEY_ENV, DEMO_KEY)  # the demo's hotline key, printed with the curl example
        cfg.api.listen = cfg.api.listen or "127.0.0.1"
        # A clock the demo can move: the escalation part skips half an hour without waiting for it.
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        d = District(cfg, Path(tmp), clock=clock)
        for uid, name in ((7001, "张伟 (deputy)"), (7002, "陈明 (chief)"), (7003, "林华 (duty leader)")):
            d.emu.user(uid, name)
        async with d:
            await walk_one_case(d)
            await walk_hotline_case(d)
            from bot.reports.cli import demo_week  # 监督考核: a simulated week's league table and report files
            await demo_week(cfg, Path(tmp))
            if stay:
                await serve_for_curl(d, cfg.api.port)
    return 0


# ---- the 12345 hotline files a case through the Open311 API ------------------------------------------
DEMO_KEY_ENV, DEMO_KEY = "HOTLINE_12345_API_KEY", "demo-hotline-key"


def curl_example(base: str, key: str, lat: float, lon: float, ticket: str = "12345-20261203-001") -> str:
    return (f"curl -s {base}/requests.json -d api_key={key} -d service_code=garbage "
            f"-d lat={lat:.5f} -d long={lon:.5f} --data-urlencode 'description=路边垃圾堆放三天' "
            f"-d external_id={ticket}")


async def walk_hotline_case(d: District) -> None:
    import aiohttp
    out = Transcript(d)
    out.seen = len(d.emu.calls)
    street = "鼓东街道"
    lat, lon = d.core.streets.representative_point(street)
    base = f"http://127.0.0.1:{d.app.bot_data['api'].port}/open311/v2"
    key = os.environ[DEMO_KEY_ENV]
    print("\n📞 The 12345 hotline files a case through the Open311 API (README: Connecting a hotline):")
    print(f"   $ {curl_example(base, key, lat, lon)}")
    form = {"api_key": key, "service_code": "garbage", "lat": f"{lat:.5f}", "long": f"{lon:.5f}",
            "description": "路边垃圾堆放三天", "external_id": "12345-20261203-001"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/requests.json", data=form) as resp:
            print(f"   ← {resp.status} {await resp.text()}")
        await d.wait_button(d.street_chat(street), "接单")
        out.flush()
        async with http.get(f"{base}/requests.json", params={"api_key": key}) as resp:
            print(f"   $ curl -s '{base}/requests.json?api_key={key}'\n   ← {resp.status} {await resp.text()}")


async def serve_for_curl(d: District, port: int) -> None:
    """Keep the bot and its API up for a hand-typed curl: the API also on the configured port."""
    import asyncio
    api = d.app.bot_data["api"]
    from aiohttp import web
    runner = web.AppRunner(api.make_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    lat, lon = d.core.streets.representative_point("温泉街道")
    print(f"\nThe API is up on http://127.0.0.1:{port}/open311/v2/ (Ctrl-C to stop). Try:")
    base = f"http://127.0.0.1:{port}/open311/v2"
    print(f"   {curl_example(base, os.environ[DEMO_KEY_ENV], lat, lon, ticket='12345-20261203-002')}")
    seen = len(d.emu.calls)
    out = Transcript(d)
    try:
        while True:
            await asyncio.sleep(0.5)
            if len(d.emu.calls) > seen:
                out.seen = seen
                out.flush()
                seen = out.seen
    finally:
        await runner.cleanup()


async def walk_one_case(d: District) -> None:
    out = Transcript(d)
    emu = d.emu
    street, grid = "温泉街道", "温泉街道01网格"
    lat, lon = d.core.grids.representative_point(grid)  # inside the street and inside a grid cell with a group
    citizen = d.citizen(1001, "zh-hans", "王女士")
    handler = d.handler_of(street)
    out.names[citizen.id] = "王女士 (citizen, private chat)"
    print("Frontline demo — the real bot against the local Bot API emulator (no Telegram needed).")
    print(f"Streets: {len(d.cfg.streets)}; the citizen reports a damaged road inside {street}.")

    out.person("王女士", "/start")
    await d.text(citizen, "/start")
    await emu.wait_for(lambda: emu.messages(citizen.id))
    out.flush()

    out.person("王女士", "[photo of a damaged road]")
    n = len(emu.messages(citizen.id))
    await emu.send_photo(citizen, citizen.id, jpeg(label="damaged road"))
    await emu.wait_for(lambda: len(emu.messages(citizen.id)) > n)
    out.flush()

    out.person("王女士", f"[location] {lat:.5f}, {lon:.5f}")
    await emu.send_location(citizen, citizen.id, lat, lon)
    await d.wait_button(citizen.id, "道路破损")
    out.flush()

    out.person("王女士", "taps 道路破损")
    await d.tap_last(citizen, citizen.id, "道路破损")
    await d.wait_button(citizen.id, "跳过")
    out.flush()

    out.person("王女士", "路面塌了一个大坑，电动车容易摔")
    await d.text(citizen, "路面塌了一个大坑，电动车容易摔")
    await d.wait_button(citizen.id, "✅")
    out.flush()

    out.person("王女士", "taps ✅ 确认提交")
    await d.tap_last(citizen, citizen.id, "✅")
    await d.wait_text(citizen.id, "GL-")
    chat = d.street_chat(street)
    await emu.wait_for(lambda: any(m.get("venue") for m in emu.messages(chat)))
    out.flush()

    card = await d.wait_button(chat, "接单")
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    out.person(f"{handler.first_name} ({street} group)", "taps ✋ 接单 twice (a double tap)")
    await emu.tap(handler, chat, card["message_id"], data)
    await emu.tap(handler, chat, card["message_id"], data)
    await d.wait_text(citizen.id, "已由")
    await emu.wait_for(lambda: len(emu.callback_answers) >= 4)
    out.flush()
    await walk_street_on_site(d, out, handler, street, chat, lat, lon)
    await walk_call_to_rating(d, out, citizen, handler, street, chat, lat, lon)

    case = (await d.core.lifecycle.cases_of(citizen.id))[0]
    print(f"\nCase {case.number}: state={case.state}, street={case.street}, handler={case.handler_name}, "
          f"rating={case.rating}")
    for ev in await d.core.lifecycle.timeline(case.id):
        print(f"  trace: {ev.at:%H:%M:%S} {ev.kind} by {ev.actor_role} {ev.data}")
    out.person("王女士", f"/case {case.number}")
    await d.text(citizen, f"/case {case.number}")
    await d.wait_text(citizen.id, "提交诉求", after=len(emu.messages(citizen.id)) - 1)
    out.flush()


async def walk_call_to_rating(d: District, out: Transcript, citizen, handler, street, chat, lat, lon) -> None:
    emu = d.emu
    dept_chat = d.dept_chat("city_mgmt")
    staff = d.staff_of("city_mgmt")
    out.names[dept_chat] = "区城管局 group"
    out.names[staff.id] = f"{staff.first_name} (private chat)"
    out.person(f"{handler.first_name} ({street} group)", "taps 📣 呼叫部门, ticks 区城管局, picks 1小时内")
    await d.tap_last(handler, chat, "呼叫部门")
    await d.wait_button(chat, "⬜ 区城管局")
    await d.tap_last(handler, chat, "⬜ 区城管局")
    await d.wait_button(chat, "☑️ 区城管局")
    await d.tap_last(handler, chat, "1小时内")
    card = await d.wait_button(dept_chat, "响应")
    await emu.wait_for(lambda: any(m.get("venue") for m in emu.messages(dept_chat)))
    out.flush()

    await walk_escalation(d, out, dept_chat)

    out.person(f"{staff.first_name} (区城管局 group)", "taps 响应")
    await d.tap_last(staff, dept_chat, "响应")
    await d.wait_text(chat, "已响应")
    out.flush()

    url = next(b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b.get("url"))
    out.person(f"{staff.first_name}", f"taps 📍 报到 → opens {url} → /start {url.split('start=')[1]}")
    await d.text(staff, f"/start {url.split('start=')[1]}")
    await d.wait_text(staff.id, "请发送您当前的位置")
    out.flush()
    out.person(f"{staff.first_name}", f"[location] {lat + 0.0004:.5f}, {lon:.5f} (about 45 m from the place)")
    await emu.send_location(staff, staff.id, lat + 0.0004, lon)
    await d.wait_text(staff.id, "报到成功")
    await d.wait_text(citizen.id, "已到达现场")
    out.flush()
    await walk_on_site_deadline(d, out)

    street_card = next(m for m in emu.messages(chat) if m.get("photo"))
    out.person(f"{handler.first_name} ({street} group)",
               "replies to the case card with an after photo, caption 已修复路面")
    await emu.send_photo_reply(handler, chat, jpeg(label="repaired", color=(90, 140, 90)), caption="已修复路面",
                               reply_to_message_id=street_card["message_id"])
    await d.wait_text(chat, "等待现场核查")
    out.flush()
    await walk_verification(d, out, lat, lon)
    await d.wait_button(citizen.id, "满意")
    await d.wait_button(chat, "好")
    out.flush()

    for user, who, chat_id, label, what in (
            (citizen, "王女士", citizen.id, "满意", "taps 满意"),
            (handler, f"{handler.first_name} ({street} group)", chat, "好", "rates 区城管局: 好"),
            (staff, f"{staff.first_name} (区城管局 group)", dept_chat, "准确", "rates the call: 准确")):
        out.person(who, what)
        query = await d.tap_last(user, chat_id, label)
        await emu.wait_for(lambda query=query: query in emu.callback_answers)
        if user is citizen:
            await d.wait_text(citizen.id, "想补充几句意见吗")
        out.flush()
    await d.wait_text(citizen.id, "已办结。")
    out.person("王女士", "types: 修得很快，谢谢！")
    await d.text(citizen, "修得很快，谢谢！")
    await d.wait_text(chat, "修得很快，谢谢！")
    out.flush()


async def walk_escalation(d: District, out: Transcript, dept_chat: int) -> None:
    """Nobody answers the call: the bot nags the department, then its deputy, then its chief."""
    jobs = d.app.job_queue.get_jobs_by_name("deadlines")
    out.names.update({7001: "张伟 deputy (private chat)", 7002: "陈明 chief (private chat)"})
    for minutes, what in ((8, "8 minutes pass: 80 % of the 10-minute answer time"),
                          (2, "10 minutes: the answer time has lapsed"),
                          (10, "20 minutes: still no answer"), (10, "30 minutes: still no answer")):
        d.clock.advance(minutes=minutes)
        print(f"\n⏳ {what} (clock {d.clock.now().astimezone(d.cfg.tz):%H:%M})")
        await jobs[0].run(d.app)
        await d.outbox_settled()
        out.flush()


async def follow_check_in_link(d: District, out: Transcript, card: dict, person, who: str, what: str) -> None:
    """Tap a card's check-in link (a deep link to the private chat) and wait for the location question."""
    url = next(b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row if b.get("url"))
    arg = url.split("start=")[1]
    out.person(who, f"{what} → /start {arg}")
    await d.text(person, f"/start {arg}")
    await d.wait_text(person.id, "请发送您当前的位置")
    out.flush()


async def walk_street_on_site(d: District, out: Transcript, handler, street, chat, lat, lon) -> None:
    """The street's own people go: their check-in meets the case's 1-hour on-site deadline."""
    emu = d.emu
    out.names[handler.id] = f"{handler.first_name} (private chat)"
    d.clock.advance(minutes=12)
    card = await d.wait_button(chat, "到场")
    await follow_check_in_link(d, out, card, handler, f"{handler.first_name} ({street} group)",
                               "12 minutes later, on site: taps 📍 到场")
    out.person(handler.first_name, f"[location] {lat + 0.0002:.5f}, {lon:.5f} (about 20 m from the place)")
    await emu.send_location(handler, handler.id, lat + 0.0002, lon)
    await d.wait_text(handler.id, "报到成功")
    await d.wait_text(chat, "已到场（距现场")
    out.flush()
    print("   ✅ the case's 1-hour on-site deadline (limits.checkin) is met: no nag will come for it")


async def walk_verification(d: District, out: Transcript, lat, lon) -> None:
    """核查结案: a grid worker checks in on site and confirms; only then is the citizen asked to rate."""
    emu = d.emu
    group = d.grid_chat("温泉街道01网格")
    worker = d.staff[group][0]
    out.names.update({group: "温泉街道01网格 grid group", worker.id: f"{worker.first_name} (private chat)"})
    card = await d.wait_button(group, "属实")
    out.flush()
    await follow_check_in_link(d, out, card, worker, f"{worker.first_name} (grid worker)",
                               "goes to look: taps 📍 到场核查")
    out.person(worker.first_name, f"[location] {lat:.5f}, {lon + 0.0002:.5f}")
    await emu.send_location(worker, worker.id, lat, lon + 0.0002)
    await d.wait_text(group, "已到场核查")
    out.flush()
    out.person(f"{worker.first_name} (grid group)", "taps ✅ 属实")
    query = await d.tap_last(worker, group, "属实")
    await emu.wait_for(lambda: query in emu.callback_answers)
    await d.wait_text(d.street_chat("温泉街道"), "现场核查属实")
    out.flush()


async def walk_on_site_deadline(d: District, out: Transcript) -> None:
    """An hour after the report the case's on-site deadline passes quietly: the street was there in time."""
    from sqlalchemy import select

    from storage.models import Deadline
    d.clock.advance(minutes=20)
    print(f"\n⏳ over an hour since the report (clock {d.clock.now().astimezone(d.cfg.tz):%H:%M}): "
          "the on-site deadline passes")
    await d.app.job_queue.get_jobs_by_name("deadlines")[0].run(d.app)
    await d.outbox_settled()
    out.flush()
    async with d.core.sessions() as session:
        on_site = await session.scalar(select(Deadline).where(Deadline.kind == "checkin", Deadline.call_id.is_(None)))
    print(f"   on-site deadline: {on_site.status} (at {on_site.closed_at.astimezone(d.cfg.tz):%H:%M}, by the street's "
          "own check-in); nobody nagged")

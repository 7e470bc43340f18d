"""`python -m bot` as a user runs it: another config and polygon file, a bad config, the demo."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import yaml

from emulator import BotApiEmulator
from emulator.images import jpeg

from .conftest import ROOT


def other_district(tmp_path, emu) -> str:
    """Two made-up streets in Haikou the bot has never seen, in their own files."""
    squares = {"海秀街道": (110.30, 20.00), "滨海街道": (110.32, 20.00)}
    features = [{"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [[
        [x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]]}} for name, (x, y) in squares.items()]
    (tmp_path / "haikou.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    config = {
        "case_prefix": "HK", "language": "en",
        "telegram": {"base_url": emu.base_url, "base_file_url": emu.base_file_url},
        "database": {"url": "sqlite+aiosqlite:///state/hk.sqlite3"},
        "media": {"dir": "state/media"},
        "geo": {"streets_file": "haikou.geojson", "tolerance_m": 50},
        "streets": [{"name": "海秀街道", "chat_id": -301}, {"name": "滨海街道", "chat_id": -302}],
        "categories": [{"key": "litter", "zh": "垃圾", "en": "Litter", "limits": {"respond": "30m", "resolve": "4h"}}],
        "command_center": {"chat_id": -399},
    }
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return str(path)


async def test_another_config_and_polygon_file_route_to_the_right_group(tmp_path):
    emu = BotApiEmulator(token="999:OTHER")
    await emu.start()
    handler = emu.user(91, "Handler")
    emu.group(-301, "海秀", [handler])
    emu.group(-302, "滨海", [])
    emu.group(-399, "command", [])
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emu.token}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", other_district(tmp_path, emu),
                                                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        await emu.wait_for(lambda: any(c.method == "getUpdates" for c in emu.calls) or
                           any(c.method == "setMyCommands" for c in emu.calls), timeout=30)
        user = emu.user(90, "Citizen", language_code="en")
        await emu.send_photo(user, user.id, jpeg())
        await emu.wait_for(lambda: emu.messages(user.id))
        await emu.send_location(user, user.id, 20.01, 110.33)  # inside 滨海街道
        for label in ("Litter", "Skip", "Confirm"):
            msg = await emu.wait_for(lambda label=label: next((m for m in reversed(emu.messages(user.id)) if any(
                label in b["text"] for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)),
                None), timeout=10)
            data = next(b["callback_data"] for row in msg["reply_markup"]["inline_keyboard"] for b in row
                        if label in b["text"])
            await emu.tap(user, user.id, msg["message_id"], data)
        card = await emu.wait_for(lambda: next((m for m in emu.messages(-302) if m.get("photo")), None), timeout=10)
        assert "HK-" in card["caption"] and "滨海街道" in card["caption"]
        assert not emu.messages(-301)
        assert (tmp_path / "state" / "hk.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        await emu.stop()
    assert proc.returncode == 0, out.decode()[-2000:]


async def test_a_bad_config_exits_with_the_key_named(tmp_path):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["intake"]["max_photos"] = 50
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(path), cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert "intake.max_photos: Input should be less than or equal to 10" in err.decode()


async def test_the_demo_prints_a_transcript_and_exits_0():
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "温泉街道 group: [photo]" in text
    assert "(answers the tap) 接单成功，您是经办人。" in text
    assert "(answers the tap) 您已接单。" in text
    assert "区城管局 group: [photo]" in text and "(answers the tap) 已响应" in text
    assert "报到成功，距现场" in text and "已修复路面" in text
    assert "state=closed" in text and "rating=satisfied" in text
    # the street's own check-in meets the 1-hour on-site deadline; a grid worker verifies before the rating
    assert "已到场（距现场" in text and "on-site deadline: met" in text and "「到场报到」已超时" not in text
    assert text.index("已到场核查") < text.index("核查属实") < text.index("taps 满意")
    # the call is not answered: nagged, then escalated to the deputy and the chief, then answered
    assert text.index("「响应呼叫」已超时") < text.index("已升级至分管领导") < text.index("已升级至主责领导") \
        < text.index("taps 响应")
    assert "张伟 deputy (private chat): ⏰ 请关注" in text and "陈明 chief (private chat): ⏰ 请关注" in text
    for kind in ("warned by system", "lapsed by system", "escalated by system"):
        assert kind in text, kind
    for label in ("提交诉求", "已接单", "呼叫部门", "部门响应", "部门到场报到", "已办结", "群众评价", "结案"):
        assert label in text.split("/case GL-")[-1], label
    # 监督考核: it ends with a simulated week's league table and where the report's files are
    week = text.split("📊 监督考核")[-1]
    assert "街镇排名 2026-W47" in week and "1. " in week and "10. " in week
    book = Path(week.split("workbook: ")[1].strip())
    assert book.name == "2026-W47_监督考核.xlsx" and book.exists()

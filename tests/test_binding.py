"""Groups bound to their street or department by a one-time code."""

import asyncio
import sys

from bot.app import make_bind_code
from emulator.images import jpeg

from .conftest import ROOT

STREET = "温泉街道"


async def test_bind_a_new_group_with_a_one_time_code(district):
    d, emu = district, district.emu
    code = await make_bind_code(d.cfg, "street", STREET)
    new_group, member = -1009876, emu.user(6500, "New handler")
    emu.group(new_group, "温泉街道新群", admins=[member])  # only a group's administrators bind it
    await emu.send_text(member, new_group, f"/bind {code}")
    assert await d.wait_text(new_group, "需要指挥中心确认")  # the street had a group: the command centre decides
    command = d.cfg.command_center.chat_id
    await d.wait_button(command, "确认改绑")
    await d.tap_last(d.staff[command][0], command, "确认改绑")
    assert await d.wait_text(new_group, "本群已绑定：温泉街道")
    await emu.send_text(member, new_group, f"/bind {code}")
    assert await d.wait_text(new_group, "绑定码无效、已使用或已过期")

    await d.report(d.citizen(9601), jpeg(), *d.core.streets.representative_point(STREET))
    card = await d.wait_button(new_group, "接单")
    assert STREET in card["caption"]
    old_chat = next(s.chat_id for s in d.cfg.streets if s.name == STREET)
    assert not [m for m in emu.messages(old_chat) if m.get("photo")]
    q = await d.tap_last(member, new_group, "接单")
    await emu.wait_for(lambda: q in emu.callback_answers)
    assert emu.callback_answers[q]["text"] == "接单成功，您是经办人。"

    await d.restart_bot()  # the binding lives in the database
    await d.report(d.citizen(9602), jpeg(label="2"), *d.core.streets.representative_point(STREET))
    await emu.wait_for(lambda: len([m for m in emu.messages(new_group) if m.get("photo")]) == 2)


async def test_bind_code_command_line(tmp_path):
    cfg_text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "sqlite+aiosqlite:///var/frontline.sqlite3", f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}")
    path = tmp_path / "c.yaml"
    for name in ("gulou_streets.geojson", "gulou_grids.geojson"):
        cfg_text = cfg_text.replace(f"data/{name}", str(ROOT / "data" / name))
    path.write_text(cfg_text, encoding="utf-8")

    async def run(*args):
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "--config", str(path), *args,
                                                    cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode, out.decode(), err.decode()

    code, out, _ = await run("bind-code", "department", "water")
    assert code == 0 and "/bind " in out and len(out.split()[0]) == 16  # 80 bits (issue 11)
    code, _, err = await run("bind-code", "street", "火星街道")
    assert code == 2 and "no street '火星街道'" in err


async def test_a_unit_name_with_html_characters_reads_as_written(cfg, clock, tmp_path):
    """Every text is sent as HTML with its arguments escaped: a name with & and < reads as written (a reply
    that went out without a parse mode showed "&amp;" and "&lt;")."""
    from demo.district import District
    water = next(d for d in cfg.departments if d.key == "water")
    water.chat_id, water.zh = None, "区水利&排水<试点>局"  # not bound yet: /bind binds it at once
    async with District(cfg, tmp_path, clock=clock) as d:
        code = await make_bind_code(d.cfg, "department", "water")
        group, member = -1009877, d.emu.user(6501, "Water clerk")
        d.emu.group(group, "水利局群", admins=[member])
        await d.emu.send_text(member, group, f"/bind {code}")
        assert await d.wait_text(group, "本群已绑定：区水利&排水<试点>局")
        assert not [m for m in d.emu.messages(group) if "&amp;" in m.get("text", "") or "&lt;" in m.get("text", "")]

"""Issue 11: the configured default language for languages the bot does not speak; the command menu per
language and per scope."""

from __future__ import annotations

import copy
import json

from demo.district import District
from ui.texts import lang_of


def test_lang_of_knows_only_zh_and_en():
    assert lang_of("en-GB", "zh") == "en" and lang_of("zh-hant", "en") == "zh"
    assert lang_of("fr", "en") == "en" and lang_of("ru", "zh") == "zh"
    assert lang_of(None, "en") == "en" and lang_of("", "zh") == "zh"


async def test_a_french_speaker_gets_the_configured_default(cfg, clock, tmp_path):
    cfg = copy.deepcopy(cfg)
    cfg.language = "en"
    async with District(cfg, tmp_path, clock=clock) as d:
        user = d.citizen(9701, lang="fr")
        await d.emu.send_text(user, user.id, "/start")
        msg = await d.emu.wait_for(lambda: next(iter(d.emu.messages(user.id)), None))
        assert "photo" in msg["text"].lower()  # the English welcome, not the Chinese one
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in msg["text"])


def _menu(emu, scope: str, lang: str = "") -> dict[str, str]:
    key = (json.dumps({"type": scope}, sort_keys=True), lang)
    return {c["command"]: c["description"] for c in emu.commands.get(key, [])}


async def test_commands_registered_per_language_and_scope(district):
    emu = district.emu
    private_zh, private_en = _menu(emu, "all_private_chats", "zh"), _menu(emu, "all_private_chats", "en")
    groups_zh, groups_en = _menu(emu, "all_group_chats", "zh"), _menu(emu, "all_group_chats", "en")
    assert {"start", "mycases", "case"} <= set(private_zh) and set(private_zh) == set(private_en)
    assert private_zh["mycases"] == "我的诉求" and private_en["mycases"] == "my reports"  # one language a line
    assert "bind" in groups_zh and not {"start", "mycases", "case"} & set(groups_zh)  # no private ones in groups
    assert set(groups_en) == set(groups_zh) and "/" not in "".join(groups_en.values())
    # without a language code: the configured default (zh in config.yaml); nothing left in the default scope
    assert _menu(emu, "all_private_chats") == private_zh and _menu(emu, "all_group_chats") == groups_zh
    assert _menu(emu, "default") == {}

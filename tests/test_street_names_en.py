"""English street names (config `streets[].name_en`) where an English-speaking citizen reads a street."""

import re

from emulator.images import jpeg

STREET = "温泉街道"  # name_en: Wenquan


async def test_an_english_citizen_reads_the_streets_english_name(district):
    d = district
    citizen = d.citizen(8101, lang="en", name="Alice")
    receipt = await d.report(citizen, jpeg(), *d.core.streets.representative_point(STREET), category="Damaged road",
                             note="Pothole")
    assert "Passed to: Wenquan" in receipt["text"] and STREET not in receipt["text"]
    number = re.search(r"GL-\d{8}-\d{4}", receipt["text"]).group(0)

    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    accepted = await d.wait_text(citizen.id, "was accepted by")
    assert accepted["text"] == f"Your report {number} was accepted by Wenquan."

    n = len(d.emu.messages(citizen.id))
    await d.text(citizen, f"/case {number}")
    timeline = await d.wait_text(citizen.id, number, after=n)
    assert "passed to Wenquan" in timeline["text"] and STREET not in timeline["text"]


async def test_a_chinese_citizen_still_reads_the_chinese_name(district):
    d = district
    citizen = d.citizen(8102)
    receipt = await d.report(citizen, jpeg(), *d.core.streets.representative_point(STREET), note="坑")
    assert f"已转交：{STREET}" in receipt["text"]
    chat = d.street_chat(STREET)
    await d.wait_button(chat, "接单")
    await d.tap_last(d.handler_of(STREET), chat, "接单")
    assert (await d.wait_text(citizen.id, "接单处理"))["text"].endswith(f"已由{STREET}接单处理。")

"""Each street's points reach that street's group; borders, tolerance and the command centre."""

import math

from shapely.ops import unary_union

from emulator.images import jpeg

STREETS = ["鼓东街道", "鼓西街道", "温泉街道", "东街街道", "南街街道",
           "安泰街道", "华大街道", "水部街道", "五凤街道", "洪山镇"]


def shifted(lat, lon, east_m=0.0, north_m=0.0):
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


async def card_in(d, chat):
    return await d.emu.wait_for(lambda: next((m for m in d.emu.messages(chat) if m.get("photo")), None))


async def test_every_demo_street_gets_its_own_reports(district):
    d = district
    for i, street in enumerate(STREETS):
        lat, lon = d.core.streets.representative_point(street)
        await d.report(d.citizen(3000 + i), jpeg(label=street), lat, lon, category="垃圾堆放")
    for street in STREETS:
        card = await card_in(d, d.street_chat(street))
        assert f"街镇: {street}" in card["caption"]
    for street in STREETS:  # exactly one card per group
        assert len([m for m in d.emu.messages(d.street_chat(street)) if m.get("photo")]) == 1


def shared_border_point(index):
    geoms = dict(zip(index.names, index.geometries, strict=True))
    for i, a in enumerate(index.names):
        for b in index.names[i + 1:]:
            line = geoms[a].boundary.intersection(geoms[b].boundary)
            if line.length > 0:
                p = line.interpolate(0.5, normalized=True)
                return (a, b), (p.y, p.x)
    raise AssertionError("no two demo streets share a border")


async def test_a_point_on_a_shared_border_goes_to_exactly_one_street(district):
    d = district
    (first, second), (lat, lon) = shared_border_point(d.core.streets)
    assert d.core.streets.locate(lat, lon).street == first
    await d.report(d.citizen(3101), jpeg(), lat, lon)
    assert await card_in(d, d.street_chat(first))
    assert not [m for m in d.emu.messages(d.street_chat(second)) if m.get("photo")]


def west_edge(index):
    union = unary_union(index.geometries)
    x, y = min(union.exterior.coords, key=lambda c: c[0])
    return y, x


async def test_just_outside_goes_to_the_nearest_street_far_outside_to_the_command_centre(district):
    d, emu = district, district.emu
    lat, lon = west_edge(d.core.streets)
    nearest = d.core.streets.locate(*shifted(lat, lon, east_m=5)).street
    near = shifted(lat, lon, east_m=-50)
    match = d.core.streets.locate(*near)
    assert (match.street, match.inside) == (nearest, False) and 40 < match.distance_m < 60
    await d.report(d.citizen(3201), jpeg(), *near)
    card = await card_in(d, d.street_chat(nearest))
    assert f"街镇: {nearest}" in card["caption"]

    far = shifted(lat, lon, east_m=-1500)
    citizen = d.citizen(3202)
    receipt = await d.report(citizen, jpeg(), *far)
    assert "已转交区指挥中心" in receipt["text"]
    command = d.cfg.command_center.chat_id
    routing = await d.wait_button(command, "鼓东街道")
    labels = [b["text"] for row in routing["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == STREETS
    first_button = routing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    officer = d.staff[command][0]
    q = await d.tap_last(officer, command, "五凤街道")
    await emu.wait_for(lambda: q in emu.callback_answers)
    assert emu.callback_answers[q]["text"] == "已分派。"
    card = await card_in(d, d.street_chat("五凤街道"))
    assert "街镇: 五凤街道" in card["caption"]
    edited = await emu.wait_for(lambda: (m := emu.messages(command)[0]) and "已分派至 五凤街道" in m["caption"] and m)
    assert not (edited.get("reply_markup") or {}).get("inline_keyboard")
    q = await emu.tap(officer, command, routing["message_id"], first_button)  # a stale tap on the old keyboard
    await emu.wait_for(lambda: q in emu.callback_answers)
    assert emu.callback_answers[q]["text"] == "已经分派过了。"
    handler = d.handler_of("五凤街道")
    await d.tap_last(handler, d.street_chat("五凤街道"), "接单")
    assert await d.wait_text(citizen.id, "已由五凤街道接单")

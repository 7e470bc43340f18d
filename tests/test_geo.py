"""geo/: GCJ-02 transform, distances, EXIF GPS, and the street index on the demo Gulou polygons."""

import io
import json
import math
import random
import struct

import pytest
import shapely
from geopy.distance import geodesic
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from shapely.ops import unary_union

from geo.coords import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02, wgs84_to_gcj02_many
from geo.distance import distance_m
from geo.exif import gps_from_exif
from geo.streets import GeoDataError, Match, StreetIndex

from .conftest import ROOT

DEMO = ROOT / "data" / "gulou_streets.geojson"
STREETS = ["鼓东街道", "鼓西街道", "温泉街道", "东街街道", "南街街道",
           "安泰街道", "华大街道", "水部街道", "五凤街道", "洪山镇"]


def moved(lat, lon, metres, bearing):
    """The point `metres` from (lat, lon) on the WGS-84 ellipsoid (bearing 0 north, 90 east)."""
    p = geodesic(meters=metres).destination((lat, lon), bearing)
    return p.latitude, p.longitude


# --- coordinates ---------------------------------------------------------------------------------

# WGS-84 -> GCJ-02 pairs published with established libraries (all digits as printed there):
# - googollee/eviltransform, python/test.py, TESTS (Shanghai, Shenzhen, Beijing);
# - wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915) "//result" comment
#   (the same value is asserted by hutool's CoordinateUtilTest.wgs84ToGcj02Test).
PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]


@pytest.mark.parametrize("wgs, gcj", PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-12) and lon == pytest.approx(gcj[1], abs=1e-12)


@pytest.mark.parametrize("wgs, gcj", PAIRS)
def test_gcj02_to_wgs84_inverts_published_pairs_within_half_a_metre(wgs, gcj):
    lat, lon = gcj02_to_wgs84(*gcj)
    assert distance_m(lat, lon, *wgs) < 0.5
    assert abs(lat - wgs[0]) < 1e-9 and abs(lon - wgs[1]) < 1e-9  # in fact far closer: ~0.1 mm


def test_array_transform_equals_the_scalar_one():
    points = [wgs for wgs, _ in PAIRS] + [(48.8566, 2.3522), (26.085, 119.295)]
    lats, lons = wgs84_to_gcj02_many([p[0] for p in points], [p[1] for p in points])
    assert list(zip(lats.tolist(), lons.tolist(), strict=True)) == [wgs84_to_gcj02(*p) for p in points]


def test_round_trip_over_all_of_china_is_well_under_half_a_metre():
    rng = random.Random(1)
    worst = 0.0
    for _ in range(3000):
        lat, lon = rng.uniform(4.0, 53.5), rng.uniform(73.7, 135.0)
        glat, glon = wgs84_to_gcj02(lat, lon)
        assert distance_m(lat, lon, glat, glon) > 1  # the datum always moves a point in China
        worst = max(worst, distance_m(lat, lon, *gcj02_to_wgs84(glat, glon)))
    assert worst < 0.001


def test_gcj02_moves_fuzhou_about_600_m_south_east():
    lat, lon = 26.085, 119.295
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert glat < lat and glon > lon
    assert distance_m(lat, lon, glat, lon) == pytest.approx(345, abs=5)  # south
    assert distance_m(lat, lon, lat, glon) == pytest.approx(481, abs=5)  # east


def test_outside_china_is_unchanged_both_ways():
    assert out_of_china(48.85, 2.35) and out_of_china(25.03, 70.0) and not out_of_china(26.08, 119.3)
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)


def test_distance_is_geodesic_on_wgs84():
    assert distance_m(0, 0, 1, 0) == pytest.approx(110_574.4, abs=0.5)  # 1° of latitude at the equator
    assert distance_m(0, 0, 0, 1) == pytest.approx(111_319.5, abs=0.5)  # 1° of longitude on the equator
    assert distance_m(26.08, 119.3, 26.08, 119.3) == 0
    assert distance_m(26.08, 119.3, 26.09, 119.31) == distance_m(26.09, 119.31, 26.08, 119.3)


# --- EXIF ----------------------------------------------------------------------------------------

def photo(gps: dict | None, fmt: str = "JPEG", size=(32, 24)) -> bytes:
    """An image with `gps` as its EXIF GPS block (Pillow writes floats as rationals)."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    if gps is not None:
        exif[0x8825] = gps
    buf = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


def exif_bytes(gps_block: dict) -> bytes:
    exif = Image.Exif()
    exif[0x8825] = gps_block
    return exif.tobytes()


def jpeg_with_raw_exif(raw: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=raw)
    return buf.getvalue()


def broken_gps_pointer(offset: int) -> bytes:
    raw = exif_bytes(gps(26.08, 119.3))
    at = raw.index(struct.pack(">HHL", 0x8825, 4, 1)) + 8  # Pillow writes big-endian ("MM")
    return jpeg_with_raw_exif(raw[:at] + struct.pack(">L", offset) + raw[at + 4:])


def dms(value: float) -> tuple[float, float, float]:
    d, rest = divmod(abs(value) * 3600, 3600)
    m, s = divmod(rest, 60)
    return d, m, round(s, 4)


def gps(lat: float, lon: float) -> dict:
    return {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}


@pytest.mark.parametrize("lat, lon", [
    (26.0812345, 119.2954321),  # Gulou, N/E
    (-33.8688, 151.2093),  # Sydney, S/E
    (40.7128, -74.0060),  # New York, N/W
    (-22.9068, -43.1729),  # Rio, S/W
])
def test_exif_gps_is_decoded_with_its_hemisphere(lat, lon):
    got = gps_from_exif(photo(gps(lat, lon)))
    assert got is not None
    assert abs(got[0] - lat) < 1e-6 and abs(got[1] - lon) < 1e-6


def test_exif_gps_from_explicit_rationals_decimal_degrees_and_png():
    rationals = {1: "N", 2: (IFDRational(26, 1), IFDRational(4, 1), IFDRational(5244, 100)),
                 3: "E", 4: (IFDRational(119, 1), IFDRational(17, 1), IFDRational(435556, 10000))}
    lat, lon = gps_from_exif(photo(rationals))
    assert abs(lat - (26 + 4 / 60 + 52.44 / 3600)) < 1e-9
    assert abs(lon - (119 + 17 / 60 + 43.5556 / 3600)) < 1e-9
    assert gps_from_exif(photo({1: "N", 2: (26.5,), 3: "E", 4: (119.25,)})) == (26.5, 119.25)
    assert gps_from_exif(photo({2: dms(26.08), 4: dms(119.3)})) == pytest.approx((26.08, 119.3), abs=1e-6)
    got = gps_from_exif(photo(gps(26.0812345, 119.2954321), fmt="PNG"))
    assert got == pytest.approx((26.0812345, 119.2954321), abs=1e-6)


def test_exif_position_survives_a_truncated_file():
    # The GPS block sits in the header: a photo cut off in its pixel data still tells where it was taken.
    data = photo(gps(26.0812345, 119.2954321), size=(640, 480))
    assert len(data) > 50_000
    assert gps_from_exif(data[: len(data) // 2]) == pytest.approx((26.0812345, 119.2954321), abs=1e-6)


@pytest.mark.parametrize("data", [
    photo(None),  # EXIF without GPS
    photo({1: "N", 3: "E", 4: dms(119.3)}),  # no latitude
    photo({1: "N", 2: dms(26.08), 3: "E"}),  # no longitude
    photo({1: "N", 2: (IFDRational(26, 1), IFDRational(4, 0), IFDRational(0, 0)), 3: "E", 4: dms(119.3)}),
    photo({1: "Q", 2: dms(26.08), 3: "E", 4: dms(119.3)}),  # unknown reference
    photo({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: dms(119.3)}),  # latitude beyond 90°
    photo({1: "N", 2: (26.0, 4.0, 52.0, 1.0), 3: "E", 4: dms(119.3)}),  # four parts
    photo({1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}),  # (0, 0): an unset receiver
    photo({1: "N", 3: "E"}),  # references only
    broken_gps_pointer(0xFFFFFF00),  # the GPS block's offset points past the end
    broken_gps_pointer(8),  # ... back at the main directory
    jpeg_with_raw_exif(exif_bytes(gps(26.08, 119.3))[:-10]),  # the GPS block cut short
], ids=["no-gps", "no-lat", "no-lon", "zero-denominator", "bad-ref", "lat-95", "four-parts", "null-island",
        "refs-only", "pointer-past-end", "pointer-loop", "cut-short"])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data", "ignore:Truncated File Read")
def test_exif_garbage_gives_none(data):
    assert gps_from_exif(data) is None


def test_exif_never_raises_on_non_images():
    no_exif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(no_exif, "JPEG")
    assert gps_from_exif(no_exif.getvalue()) is None
    assert gps_from_exif(b"not an image at all") is None  # Pillow's UnidentifiedImageError is swallowed
    assert gps_from_exif(b"") is None


# --- the street index on the demo polygons -------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    return StreetIndex.from_geojson(DEMO)


def test_demo_file_is_ten_named_streets_that_tile_without_gaps_or_overlaps(demo):
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    assert "not official" in data["note"]
    assert demo.names == STREETS
    for feature in data["features"]:
        props = feature["properties"]
        assert props["name_en"].endswith(("Subdistrict", "Town")) and "not official" in props["note"]
        assert 4 <= len(feature["geometry"]["coordinates"][0]) - 1 <= 8
    union = unary_union(demo.geometries)
    assert union.geom_type == "Polygon" and not union.interiors  # one piece, no holes
    assert union.area == pytest.approx(sum(g.area for g in demo.geometries), rel=1e-12)  # no overlaps
    assert (119.25 < union.bounds[0] and union.bounds[2] < 119.33
            and 26.06 < union.bounds[1] and union.bounds[3] < 26.13)


def test_demo_layout_roughly_follows_the_map(demo):
    centre = {n: demo.geometries[i].centroid for i, n in enumerate(demo.names)}
    assert all(centre["洪山镇"].x < c.x for n, c in centre.items() if n != "洪山镇")  # the town is west
    assert all(centre["五凤街道"].y > c.y for n, c in centre.items() if n not in ("五凤街道", "洪山镇"))
    assert centre["水部街道"].x > centre["南街街道"].x and centre["温泉街道"].x > centre["鼓东街道"].x


def test_every_demo_street_contains_its_representative_point(demo):
    for name in STREETS:
        lat, lon = demo.representative_point(name)
        assert demo.locate(lat, lon) == Match(name, True, 0.0)


def shared_borders(index):
    """Every pair of neighbouring streets (by index) with the midpoint (lat, lon) of their common edge."""
    for a, ga in enumerate(index.geometries):
        for b in range(a + 1, len(index.geometries)):
            edge = ga.boundary.intersection(index.geometries[b].boundary)
            if edge.length > 0:
                p = shapely.line_interpolate_point(shapely.line_merge(edge), 0.5, normalized=True)
                yield a, b, (p.y, p.x)


def test_a_point_on_a_shared_border_always_goes_to_the_street_first_in_the_file(demo):
    borders = list(shared_borders(demo))
    assert len(borders) >= 15
    for a, b, (lat, lon) in borders:
        for _ in range(3):
            assert demo.locate(lat, lon) == Match(STREETS[a], True, 0.0), (STREETS[a], STREETS[b])
    assert demo.locate_many(*zip(*[p for _, _, p in borders], strict=True)) == [
        Match(STREETS[a], True, 0.0) for a, _, _ in borders]
    # 鼓东街道 (first) and 温泉街道 (third) share lon 119.312; a metre east of it is 温泉's alone.
    assert demo.locate(26.095, 119.312).street == "鼓东街道"
    assert demo.locate(*moved(26.095, 119.312, 1, 90)).street == "温泉街道"
    # 鼓东, 东街 and 南街 meet at one vertex: the lowest index still wins.
    assert demo.locate(26.085, 119.30).street == "鼓东街道"


def test_the_outer_corners_and_edges_are_inside(demo):
    assert demo.locate(26.125, 119.325) == Match("五凤街道", True, 0.0)  # the north-east corner
    assert demo.locate(26.065, 119.255) == Match("洪山镇", True, 0.0)  # the south-west corner
    assert demo.locate(26.125, 119.30) == Match("五凤街道", True, 0.0)  # on the north edge


def test_fifty_metres_outside_goes_to_the_nearest_street(demo):
    lat, lon = moved(26.10, 119.255, 50, 270)  # west of 洪山镇's west edge
    match = demo.locate(lat, lon)
    assert (match.street, match.inside) == ("洪山镇", False)
    assert match.distance_m == pytest.approx(50, abs=0.1)
    south = demo.locate(*moved(26.065, 119.30, 50, 180))  # south of 安泰街道
    assert (south.street, south.inside) == ("安泰街道", False)
    assert south.distance_m == pytest.approx(50, abs=0.1)
    strict = StreetIndex.from_geojson(DEMO, tolerance_m=10)
    assert strict.locate(lat, lon).street is None


def test_a_point_equally_near_two_streets_goes_to_the_first(demo):
    # Straight south of the corner shared by 鼓西街道 (index 1) and 安泰街道 (index 5).
    match = demo.locate(*moved(26.065, 119.29, 50, 180))
    assert (match.street, match.inside) == ("鼓西街道", False)
    assert match.distance_m == pytest.approx(50, abs=0.1)


def test_a_kilometre_outside_or_in_the_sea_is_nobodys(demo):
    far = demo.locate(*moved(26.10, 119.255, 1000, 270))
    assert far.street is None and not far.inside and far.distance_m == pytest.approx(1000, abs=0.5)
    sea = demo.locate(25.9, 120.5)  # the Taiwan Strait, ~120 km south-east
    assert sea.street is None and not sea.inside and 100_000 < sea.distance_m < 150_000


def test_the_nearest_street_is_nearest_in_metres_not_in_degrees():
    # At 60°N a degree of longitude is half a degree of latitude: A is 0.0009° east (~50 m), B is
    # 0.0006° north (~67 m). By degrees B would be nearer; by metres A is, and A must win.
    a = shapely.box(10.0009, 59.99, 10.01, 60.0)
    b = shapely.box(9.99, 60.0006, 10.0, 60.01)
    index = StreetIndex([("B", b), ("A", a)])
    match = index.locate(60.0, 10.0 - 0.0)
    assert (match.street, match.inside) == ("A", False)
    assert match.distance_m == pytest.approx(distance_m(60.0, 10.0, 60.0, 10.0009), abs=0.1)


def test_invalid_points_are_refused(demo):
    for lat, lon in [(95.0, 119.3), (26.08, 181.0), (math.nan, 119.3), (26.08, math.inf)]:
        with pytest.raises(ValueError, match="not a WGS-84 coordinate"):
            demo.locate(lat, lon)
    with pytest.raises(ValueError):
        demo.locate_many([26.08, math.nan], [119.3, 119.3])
    with pytest.raises(KeyError, match="no street named"):
        demo.representative_point("不存在街道")


def around_the_district(n: int, seed: int = 5) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    return [rng.uniform(26.05, 26.14) for _ in range(n)], [rng.uniform(119.24, 119.34) for _ in range(n)]


def test_locate_many_agrees_with_locate(demo):
    lats, lons = around_the_district(3000)
    lats += [26.095, 26.085, 26.125, 25.9, 26.10]
    lons += [119.312, 119.30, 119.325, 120.5, 119.2545]
    many = demo.locate_many(lats, lons)
    assert many == [demo.locate(a, b) for a, b in zip(lats, lons, strict=True)]
    assert {m.street for m in many} == {*STREETS, None}
    assert demo.locate_many([], []) == []


def write_gcj02_copy(path):
    """The demo polygons as a Chinese web map would publish them: every vertex moved to GCJ-02."""
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    for feature in data["features"]:
        for ring in feature["geometry"]["coordinates"]:
            ring[:] = [list(reversed(wgs84_to_gcj02(lat, lon))) for lon, lat in ring]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_gcj02_index_takes_wgs84_points(tmp_path, demo):
    path = write_gcj02_copy(tmp_path / "gulou_gcj02.geojson")
    gcj = StreetIndex.from_geojson(path, crs="gcj02")
    naive = StreetIndex.from_geojson(path)  # the same file mistaken for WGS-84
    for name in STREETS:
        assert gcj.locate(*demo.representative_point(name)) == Match(name, True, 0.0)
        assert demo.locate(*gcj.representative_point(name)) == Match(name, True, 0.0)  # WGS-84 out too
    lats, lons = around_the_district(2000, seed=11)
    expected = [demo.locate(a, b).street for a, b in zip(lats, lons, strict=True)]
    assert [m.street for m in gcj.locate_many(lats, lons)] == expected
    assert [gcj.locate(a, b).street for a, b in zip(lats, lons, strict=True)] == expected
    # GCJ-02 moves Fuzhou ~345 m south and ~481 m east. A point 50 m south of the 温泉/水部 border
    # is in 水部街道; read against GCJ-02 polygons without converting it, it would sit ~295 m north
    # of that border, in 温泉街道.
    point = moved(26.085, 119.318, 50, 180)
    assert demo.locate(*point).street == "水部街道"
    assert gcj.locate(*point) == Match("水部街道", True, 0.0)
    assert naive.locate(*point) == Match("温泉街道", True, 0.0)
    # Tolerance and distances work in metres for a GCJ-02 index too.
    near = gcj.locate(*moved(26.10, 119.255, 50, 270))
    assert (near.street, near.inside) == ("洪山镇", False) and near.distance_m == pytest.approx(50, abs=0.5)


def feature(name, gtype, coordinates, **props):
    return {"type": "Feature", "properties": {"name": name, **props},
            "geometry": {"type": gtype, "coordinates": coordinates}}


def write(path, features, **top):
    path.write_text(json.dumps({"type": "FeatureCollection", **top, "features": features}), encoding="utf-8")
    return path


def square(x, y, side=1.0):
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]


def test_multipolygons_holes_and_repaired_polygons(tmp_path):
    path = write(tmp_path / "m.geojson", [
        feature("Islands", "MultiPolygon", [[square(0, 0)], [square(5, 5)]]),
        feature("Ring", "Polygon", [square(10, 0, 3), square(11, 1, 1)[::-1]]),  # a 3° square, 1° hole
        feature("Bowtie", "Polygon", [[[20, 0], [22, 2], [22, 0], [20, 2], [20, 0]]]),  # self-intersecting
    ])
    index = StreetIndex.from_geojson(path, tolerance_m=1000)
    assert index.locate(0.5, 0.5) == Match("Islands", True, 0.0)
    assert index.locate(5.5, 5.5) == Match("Islands", True, 0.0)
    assert index.locate(3.0, 3.0).street is None  # between the islands, ~220 km from either
    assert index.locate(0.5, 10.5) == Match("Ring", True, 0.0)
    hole = index.locate(1.5, 11.5)  # the middle of the hole: 0.5° (~55 km) from the ring
    assert hole.street is None and not hole.inside and hole.distance_m == pytest.approx(55_300, rel=0.01)
    assert index.locate(1.0, 11.0 + 0.005) == Match("Ring", True, 0.0)  # on the hole's edge
    bowtie = index.geometries[2]  # repaired into its two triangles
    assert bowtie.geom_type == "MultiPolygon" and bowtie.is_valid and bowtie.area == pytest.approx(2.0)
    assert index.locate(1.0, 20.5).street == "Bowtie" and index.locate(1.0, 21.5).street == "Bowtie"
    for name in index.names:
        assert index.locate(*index.representative_point(name)) == Match(name, True, 0.0)


@pytest.mark.parametrize("content, message", [
    ("not json", r"bad\.geojson: not valid JSON"),
    (json.dumps({"type": "Feature"}), "not a GeoJSON FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": []}), "has no features"),
    (json.dumps({"type": "FeatureCollection", "features": ["x"]}), "feature 0 is not a GeoJSON Feature"),
    (json.dumps({"type": "FeatureCollection", "features": [
        feature("A", "Polygon", [square(0, 0)]),
        {**feature("", "Polygon", [square(2, 0)]), "properties": {"name_en": "B"}}]}),
     "feature 1 has no 'name' property"),
    (json.dumps({"type": "FeatureCollection", "features": [feature("X", "Point", [0, 0])]}),
     r"feature 0 \(X\) is a Point, not a Polygon or MultiPolygon"),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Y"}, "geometry": None}]}),
     r"feature 0 \(Y\) is a None"),
    (json.dumps({"type": "FeatureCollection", "features": [feature("Z", "Polygon", [[[0, 0], [1]]])]}),
     r"feature 0 \(Z\) has bad coordinates"),
    (json.dumps({"type": "FeatureCollection", "features": [
        feature("Flat", "Polygon", [[[0, 0], [1, 1], [2, 2], [0, 0]]])]}),
     r"feature 0 \(Flat\) has no area"),
])
def test_bad_geojson_names_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GeoDataError, match=message):
        StreetIndex.from_geojson(path)


def test_unreadable_files_and_bad_options(tmp_path):
    with pytest.raises(GeoDataError, match=r"missing\.geojson: cannot read the street polygons"):
        StreetIndex.from_geojson(tmp_path / "missing.geojson")
    with pytest.raises(GeoDataError, match="cannot read the street polygons"):
        StreetIndex.from_geojson(tmp_path)  # a directory
    binary = tmp_path / "binary.geojson"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(GeoDataError, match="not valid JSON"):
        StreetIndex.from_geojson(binary)
    with pytest.raises(GeoDataError, match="unknown coordinate system 'bd09'"):
        StreetIndex.from_geojson(DEMO, crs="bd09")
    with pytest.raises(GeoDataError, match="no street polygons"):
        StreetIndex([])
    assert issubclass(GeoDataError, ValueError)

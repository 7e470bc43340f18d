"""Street lookup, coordinate systems, EXIF GPS and distances."""

import json
import math

import pytest

from emulator.images import jpeg
from geo.coords import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from geo.distance import distance_m
from geo.exif import gps_from_exif
from geo.streets import GeoDataError, StreetIndex

from .conftest import ROOT

DEMO = ROOT / "data" / "gulou_streets.geojson"

# Known WGS-84 -> GCJ-02 pairs: the test vectors of the eviltransform library's Python tests
# (Shanghai, Shenzhen, Beijing) and of coordtransform as used by hutool's CoordinateUtilTest.
PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]


@pytest.mark.parametrize("wgs, gcj", PAIRS)
def test_wgs84_to_gcj02_known_pairs(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert abs(lat - gcj[0]) < 1e-9 and abs(lon - gcj[1]) < 1e-9


def test_gcj02_offset_in_fuzhou_is_hundreds_of_metres_and_the_inverse_round_trips():
    lat, lon = 26.0850, 119.2950
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert 300 < distance_m(lat, lon, glat, glon) < 700
    back = gcj02_to_wgs84(glat, glon)
    assert distance_m(lat, lon, *back) < 0.01


def test_outside_china_is_unchanged():
    assert out_of_china(48.85, 2.35)
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)


@pytest.fixture(scope="module")
def demo():
    return StreetIndex.from_geojson(DEMO)


def test_every_demo_street_contains_its_representative_point(demo):
    assert len(demo.names) == 10
    for name in demo.names:
        match = demo.locate(*demo.representative_point(name))
        assert (match.street, match.inside, match.distance_m) == (name, True, 0.0)


def test_shared_border_is_deterministic(demo):
    # 鼓东街道 (first in the file) and 温泉街道 share the edge x = 119.312.
    for _ in range(3):
        assert demo.locate(26.095, 119.312).street == "鼓东街道"
    assert demo.locate(26.095, 119.3121).street == "温泉街道"


def test_tolerance_and_far_outside(demo):
    lat = 26.10
    lon_edge = 119.255  # the district's west edge (洪山镇)
    per_m = 1 / (111_320 * math.cos(math.radians(lat)))
    near = demo.locate(lat, lon_edge - 50 * per_m)
    assert near.street == "洪山镇" and not near.inside and 45 < near.distance_m < 55
    far = demo.locate(lat, lon_edge - 1000 * per_m)
    assert far.street is None and 950 < far.distance_m < 1050
    assert demo.locate(25.6, 120.4).street is None  # Taiwan Strait


def test_locate_many_agrees_with_locate(demo):
    lats = [26.095, 26.07, 26.10, 26.12, 25.0]
    lons = [119.312, 119.28, 119.2545, 119.30, 119.0]
    assert demo.locate_many(lats, lons) == [demo.locate(a, b) for a, b in zip(lats, lons, strict=True)]


def test_gcj02_polygons_take_wgs84_points(tmp_path, demo):
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [list(reversed(wgs84_to_gcj02(y, x))) for x, y in ring]
    path = tmp_path / "gcj.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    gcj = StreetIndex.from_geojson(path, crs="gcj02")
    naive = StreetIndex.from_geojson(path, crs="wgs84")
    # GCJ-02 moves Fuzhou ~340 m south and ~480 m east. A WGS-84 point 55 m south of the
    # 水部/温泉 edge: right with the conversion, the wrong street without it.
    point = (26.0845, 119.318)
    assert demo.locate(*point).street == "水部街道"
    assert gcj.locate(*point).street == "水部街道"
    assert naive.locate(*point).street == "温泉街道"
    for name in gcj.names:
        assert gcj.locate(*gcj.representative_point(name)).street == name


def test_multipolygon(tmp_path):
    square = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
    far = [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 6.0], [5.0, 5.0]]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A"}, "geometry": {"type": "MultiPolygon",
                                                                     "coordinates": [square, far]}}]}
    path = tmp_path / "m.geojson"
    path.write_text(json.dumps(fc))
    idx = StreetIndex.from_geojson(path)
    assert idx.locate(5.5, 5.5).street == "A" and idx.locate(0.5, 0.5).street == "A"
    assert idx.locate(3.0, 3.0).street is None


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    (json.dumps({"type": "Feature"}), "not a GeoJSON FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}),
     "feature 0 has no 'name'"),
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "X"},
                                                            "geometry": {"type": "Point", "coordinates": [0, 0]}}]}),
     "feature 0 (X) is a Point"),
])
def test_bad_geojson_names_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(GeoDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        StreetIndex.from_geojson(path)


def test_exif_gps_round_trip_and_garbage():
    lat, lon = 26.0812345, 119.2954321
    got = gps_from_exif(jpeg(gps=(lat, lon)))
    assert abs(got[0] - lat) < 1e-6 and abs(got[1] - lon) < 1e-6
    south_west = gps_from_exif(jpeg(gps=(-33.8688, -151.2093)))
    assert abs(south_west[0] + 33.8688) < 1e-6 and abs(south_west[1] + 151.2093) < 1e-6
    assert gps_from_exif(jpeg()) is None
    assert gps_from_exif(b"not an image") is None


def test_distance_is_geodesic():
    # One degree of latitude at the equator is 110,574 m on WGS-84.
    assert abs(distance_m(0, 0, 1, 0) - 110_574) < 1

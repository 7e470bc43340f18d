from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, data) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def base() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def test_shipped_config_loads_with_paths_relative_to_it():
    cfg = load_config(ROOT / "config.yaml")
    assert cfg.geo.streets_file == ROOT / "data" / "gulou_streets.geojson"
    assert len(cfg.streets) == 10
    cats = cfg.categories_by_key()
    assert str(cats["garbage"].limits["resolve"]) == "4h"
    assert str(cats["road_damage"].limits["resolve"]) == "1wd"
    assert cfg.database.url == f"sqlite+aiosqlite:///{ROOT / 'var' / 'frontline.sqlite3'}"


@pytest.mark.parametrize("change, message", [
    (lambda d: d["categories"][0]["limits"].update(respond="ten minutes"), "categories.0.limits"),
    (lambda d: d["categories"][0]["limits"].update(sleep="10m"), "unknown limit 'sleep'"),
    (lambda d: d["streets"][1].update(chat_id="group"), "streets.1.chat_id"),
    (lambda d: d["geo"].update(crs="bd09"), "geo.crs"),
    (lambda d: d.update(timezone="Mars/Olympus"), "unknown time zone"),
    (lambda d: d.pop("geo"), "geo: Field required"),
    (lambda d: d.update(colour="red"), "colour: Extra inputs are not permitted"),
    (lambda d: d["streets"].append(dict(d["streets"][0])), "duplicate 鼓东街道"),
    (lambda d: d["departments"][-1].update(tracked_by="nobody"), "water_co.tracked_by names no other department"),
    (lambda d: d["departments"][-1].pop("tracked_by"), "water_co is a city unit, so tracked_by must name"),
    (lambda d: d["departments"].extend({"key": f"u{i}", "zh": f"单位{i}", "en": f"U{i}"} for i in range(145)),
     "departments: at most 149 (the call picker's selection travels in Telegram's 64-byte button data), got 150"),
])
def test_bad_config_names_the_key(tmp_path, change, message):
    data = base()
    change(data)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, data))
    assert message in str(err.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("streets: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_token_comes_from_the_environment(monkeypatch):
    cfg = load_config(ROOT / "config.yaml")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert cfg.telegram.token is None
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:abc")
    assert cfg.telegram.token == "42:abc"


@pytest.mark.parametrize("url, why", [
    ("api.telegram.org/bot", "http:// or https://"), ("https:///bot", "with a host"),
    ("https://api.telegram.org", "must end with 'bot'"), ("http://127.0.0.1:99999/bot", "port"),
    ("https://api.telegram.org/bot?x=1", "must end with 'bot'"), ("ftp://host/bot", "http:// or https://")])
def test_a_malformed_bot_api_url_is_a_config_error(tmp_path, url, why):
    data = base()
    data.setdefault("telegram", {})["base_url"] = url
    with pytest.raises(ConfigError, match="telegram.base_url") as err:
        load_config(write(tmp_path, data))
    assert why in str(err.value)
    data["telegram"] = {"base_file_url": url}
    with pytest.raises(ConfigError, match="telegram.base_file_url"):
        load_config(write(tmp_path, data))
    data["telegram"] = {"base_url": "http://127.0.0.1:8081/bot", "base_file_url": "http://127.0.0.1:8081/file/bot"}
    assert load_config(write(tmp_path, data)).telegram.base_url == "http://127.0.0.1:8081/bot"

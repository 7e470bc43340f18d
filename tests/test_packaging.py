"""The default config when none is given: config.yaml here, else the demo's, shipped in the package.
(`make install-check` proves a regular install runs the demo from any directory.)"""

from bot.__main__ import config_path, main
from bot.config import load_config
from bot.shipped import DEFAULT_CONFIG


def test_the_shipped_config_is_used_where_there_is_no_config_yaml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_path(None) == (DEFAULT_CONFIG, True)
    cfg = load_config(DEFAULT_CONFIG)  # its maps are found beside it
    assert cfg.geo.streets_file.is_file() and cfg.geo.grids_file.is_file()
    (tmp_path / "config.yaml").write_text("x: 1")
    assert config_path(None)[1] is False
    assert config_path("other.yaml")[1] is False


def test_the_shipped_config_runs_the_demo_only(tmp_path, monkeypatch, capsys):
    """Its database and media paths lie inside the installed package: a real run or a code needs a config."""
    monkeypatch.chdir(tmp_path)
    assert main(["bind-code", "street", "温泉街道"]) == 2
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert main([]) == 2
    assert "give --config PATH" in capsys.readouterr().err
    assert not (DEFAULT_CONFIG.parent / "var").exists()

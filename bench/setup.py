"""What the benchmarks that run the bot as its own process share: the demo config pointed at the
emulator, a database and media folder in the run's directory, and no hourly report cap."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def emulator_config(emu, tmp: Path, database_url: str | None = None) -> dict:
    """config.yaml as a dict, aimed at `emu` (a started emulator) and at files under `tmp`."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["telegram"].update(base_url=emu.base_url, base_file_url=emu.base_file_url)
    raw["database"]["url"] = database_url or f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    raw["media"]["dir"] = str(tmp / "media")
    for key in ("streets_file", "grids_file"):
        if raw["geo"].get(key):
            raw["geo"][key] = str(ROOT / raw["geo"][key])
    raw["intake"]["max_cases_per_hour"] = 10**6
    return raw


def write_config(raw: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path

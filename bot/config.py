"""config.yaml, validated at start: an error names the bad key and says why."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cases.policy import LIMIT_KINDS, Category, parse_duration


class ConfigError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsCfg(_Strict):
    """Telegram's limits for the bot. Leave them: only runs against the emulator (bench/chaos.py) raise them."""

    per_second: int = Field(30, ge=1)
    per_group_minute: int = Field(20, ge=1)


class TelegramCfg(_Strict):
    token_env: str = "TELEGRAM_BOT_TOKEN"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"  # webhook: see `webhook`; needed for replicas
    limits: LimitsCfg = LimitsCfg()

    @property
    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


class WebhookCfg(_Strict):
    """Webhook mode: Telegram POSTs updates to `url` (HTTPS, usually a TLS proxy in front of us), which
    reaches this process on listen:port. The same server answers GET /healthz and GET /metrics."""

    url: str | None = None
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    secret_token_env: str = "WEBHOOK_SECRET_TOKEN"  # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token
    max_connections: int = Field(40, ge=1, le=100)

    @property
    def secret_token(self) -> str | None:
        return os.environ.get(self.secret_token_env) or None


class MonitoringCfg(_Strict):
    """In polling mode, where /healthz and /metrics are served (none when port is unset)."""

    listen: str = "127.0.0.1"
    port: int | None = Field(None, ge=0, le=65535)


class DatabaseCfg(_Strict):
    url: str = "sqlite+aiosqlite:///var/frontline.sqlite3"


class MediaCfg(_Strict):
    dir: Path = Path("var/media")
    max_bytes: int = Field(20 * 1024 * 1024, gt=0)
    max_pixels: int = Field(40_000_000, gt=0)


class GeoCfg(_Strict):
    streets_file: Path
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    tolerance_m: float = Field(100.0, ge=0)
    grids_file: Path | None = None  # optional second layer: grid cells (网格), same crs, property `name`


class IntakeCfg(_Strict):
    draft_ttl: str = "30m"
    max_photos: int = Field(5, ge=1, le=10)  # an album holds at most 10
    max_cases_per_hour: int = Field(10, ge=1)

    @field_validator("draft_ttl")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v).unit == "wd":
            raise ValueError("draft_ttl must be in m, h or d")
        return v


class DisposalCfg(_Strict):
    checkin_radius_m: float = Field(200.0, gt=0)  # a check-in counts within this distance of the place
    call_answer: str = "10m"  # every call must be answered within this
    rating_timeout: str = "3d"  # unrated resolved cases close after this

    @field_validator("call_answer", "rating_timeout")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v).unit == "wd":
            raise ValueError("use m, h or d")
        return v


class PersonCfg(_Strict):
    name: str
    user_id: int | None = None  # Telegram user id: private nags need it (and that they started the bot)


class StreetCfg(_Strict):
    name: str
    chat_id: int | None = None
    name_en: str | None = None
    deputy: PersonCfg | None = None  # 分管领导
    chief: PersonCfg | None = None  # 主责领导


class GridCfg(_Strict):
    name: str  # as in geo.grids_file
    chat_id: int | None = None  # the grid group; a cell without one is handled by its street
    workers: list[int] = []  # Telegram user ids of its grid workers (网格员); more join with a code


# "T:<case id>:<bit mask in decimal>:typed" must fit 64 bytes with a 10-digit case id: 45 digits, 149 bits.
MAX_DEPARTMENTS = 149


class DepartmentCfg(_Strict):
    key: str
    zh: str
    en: str
    chat_id: int | None = None
    deputy: PersonCfg | None = None
    chief: PersonCfg | None = None
    city_unit: bool = False  # 市直单位 (e.g. the water company): a district department tracks its calls
    tracked_by: str | None = None  # key of that district department


class EscalationCfg(_Strict):
    warn_at: float = Field(0.8, ge=0, lt=1)  # early warning at this share of the time; 0: none
    after: list[str] = ["0m", "10m", "20m", "30m"]  # after the deadline: responsible, deputy, chief, command
    max_extensions: int = Field(2, ge=0)  # approved extensions per deadline
    duty_leaders: list[PersonCfg] = []  # this week's duty leaders (两级巡查轮值), told at the top of a chain
    summary_time: str = Field("18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # daily summary, local time

    @field_validator("after")
    @classmethod
    def _after(cls, v: list[str]) -> list[str]:
        if len(v) != 4:
            raise ValueError("give 4 durations: responsible, deputy, chief, command centre")
        if any(parse_duration(x, allow_zero=True).unit == "wd" for x in v):
            raise ValueError("use m, h or d")
        return v


class CategoryCfg(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    zh: str
    en: str
    limits: dict[str, str] = {}
    route_to: Literal["street", "grid"] = "street"

    @field_validator("limits")
    @classmethod
    def _limits(cls, v: dict[str, str]) -> dict[str, str]:
        for kind, text in v.items():
            if kind not in LIMIT_KINDS:
                raise ValueError(f"unknown limit {kind!r}; use one of {', '.join(LIMIT_KINDS)}")
            parse_duration(text)
        return v

    def to_category(self) -> Category:
        return Category(self.key, self.zh, self.en,
                        {k: parse_duration(v) for k, v in self.limits.items()}, self.route_to)


class CommandCenterCfg(_Strict):
    chat_id: int | None = None


class WorkdaysCfg(_Strict):
    holidays: list[date] = []
    workdays: list[date] = []


class Config(_Strict):
    language: Literal["zh", "en"] = "zh"
    timezone: str = "Asia/Shanghai"
    case_prefix: str = Field("GL", pattern=r"^[A-Z]{1,6}$")
    telegram: TelegramCfg = TelegramCfg()
    webhook: WebhookCfg = WebhookCfg()
    monitoring: MonitoringCfg = MonitoringCfg()
    database: DatabaseCfg = DatabaseCfg()
    media: MediaCfg = MediaCfg()
    geo: GeoCfg
    intake: IntakeCfg = IntakeCfg()
    disposal: DisposalCfg = DisposalCfg()
    escalation: EscalationCfg = EscalationCfg()
    streets: list[StreetCfg] = Field(min_length=1)
    departments: list[DepartmentCfg] = []
    grids: list[GridCfg] = []
    categories: list[CategoryCfg] = Field(min_length=1)
    command_center: CommandCenterCfg = CommandCenterCfg()
    workdays: WorkdaysCfg = WorkdaysCfg()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except Exception as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _unique(self) -> Config:
        for label, keys in (("streets", [s.name for s in self.streets]),
                            ("departments", [d.key for d in self.departments]),
                            ("categories", [c.key for c in self.categories])):
            dup = {k for k in keys if keys.count(k) > 1}
            if dup:
                raise ValueError(f"{label}: duplicate {', '.join(sorted(dup))}")
        if len(self.departments) > MAX_DEPARTMENTS:
            raise ValueError(f"departments: at most {MAX_DEPARTMENTS} (the call picker's selection travels in "
                             f"Telegram's 64-byte button data), got {len(self.departments)}")
        keys = {d.key for d in self.departments}
        for d in self.departments:
            if d.tracked_by and (d.tracked_by not in keys or d.tracked_by == d.key):
                raise ValueError(f"departments: {d.key}.tracked_by names no other department ({d.tracked_by!r})")
            if d.city_unit and not d.tracked_by:
                raise ValueError(f"departments: {d.key} is a city unit, so tracked_by must name the district "
                                 "department that follows its calls up")
        if (self.grids or any(c.route_to == "grid" for c in self.categories)) and not self.geo.grids_file:
            raise ValueError("geo.grids_file is required when grids are listed or a category routes to grid")
        if self.telegram.mode == "webhook" and not self.webhook.url:
            raise ValueError("webhook.url is required when telegram.mode is webhook")
        workers = [w for g in self.grids for w in g.workers]
        dup = {w for w in workers if workers.count(w) > 1}
        if dup:
            raise ValueError(f"grids: worker {', '.join(map(str, sorted(dup)))} is in more than one grid")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def categories_by_key(self) -> dict[str, Category]:
        return {c.key: c.to_category() for c in self.categories}


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {len(exc.errors())} problem(s)"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {key}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
    # Relative paths are relative to the config file, so `--config other/dir/x.yaml` works.
    base = path.parent
    if not cfg.geo.streets_file.is_absolute():
        cfg.geo.streets_file = base / cfg.geo.streets_file
    if cfg.geo.grids_file and not cfg.geo.grids_file.is_absolute():
        cfg.geo.grids_file = base / cfg.geo.grids_file
    if not cfg.media.dir.is_absolute():
        cfg.media.dir = base / cfg.media.dir
    cfg.database.url = _relative_sqlite(cfg.database.url, base)
    return cfg


def _relative_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((base / url[len(prefix):]).resolve())
    return url

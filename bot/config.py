"""config.yaml, validated at start: an error names the bad key and says why."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assessment.settings import AssessmentCfg
from cases.policy import LIMIT_KINDS, Category, parse_duration
from ui.buttons import MAX_DEPARTMENTS


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
    # issue 11: a proxy for every Bot API call (else HTTP(S)_PROXY / ALL_PROXY), and how long to wait for a
    # connection (a slow network may need more)
    proxy: str | None = Field(None, pattern=r"^(https?|socks5h?|socks4a?)://[^/]+/?$")
    connect_timeout: float = Field(5.0, gt=0)
    mode: Literal["polling", "webhook"] = "polling"  # webhook: see `webhook`; needed for replicas
    limits: LimitsCfg = LimitsCfg()

    @property
    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _bot_api_url(cls, v: str) -> str:
        """A malformed URL is a config error at start, not an endless 'Bot API not reachable' loop."""
        parts = urlsplit(v)
        try:
            parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
        except ValueError:
            raise ValueError("the port is not a number from 1 to 65535") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in v):
            raise ValueError("must be an http:// or https:// URL with a host, e.g. https://api.telegram.org/bot")
        if parts.query or parts.fragment or not (v.endswith("bot") or "{token}" in v):
            raise ValueError("the token is appended to it: it must end with 'bot' (…/bot, …/file/bot)")
        return v


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
    # personal data: originals of closed cases are deleted after this many days (hashes stay in the trace)
    keep_days: int = Field(180, ge=1)
    max_decodes: int = Field(2, ge=1, le=32)  # images decoded at once (a 40 MP decode takes ~160 MB)


class GeoCfg(_Strict):
    streets_file: Path
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    tolerance_m: float = Field(100.0, ge=0)
    grids_file: Path | None = None  # optional second layer: grid cells (网格), same crs, property `name`


class IntakeCfg(_Strict):
    draft_ttl: str = "30m"
    max_photos: int = Field(5, ge=1, le=10)  # an album holds at most 10
    max_cases_per_hour: int = Field(10, ge=1)
    max_upload_mb_per_hour: int = Field(100, ge=1)  # photos a user may make the bot download in an hour

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
    checkin_live: bool = False  # only a live location checks in, and only if it stays on site for a minute
    checkin_photo: bool = False  # one photo on site before the location

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




class DepartmentCfg(_Strict):
    key: str
    zh: str
    en: str
    chat_id: int | None = None
    deputy: PersonCfg | None = None
    chief: PersonCfg | None = None
    city_unit: bool = False  # 市直单位 (e.g. the water company): a district department tracks its calls
    tracked_by: str | None = None  # key of that district department


class DutyCfg(PersonCfg):
    """One leader's turn on the duty rota (两级巡查轮值): `from`/`to` dates (inclusive) or ISO `weeks`."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    weeks: list[str] = []  # ISO weeks such as 2026-W48

    @field_validator("weeks")
    @classmethod
    def _weeks(cls, v: list[str]) -> list[str]:
        for week in v:
            try:
                date.fromisoformat(week + "-1")
            except ValueError:
                raise ValueError(f"{week!r} is not an ISO week like 2026-W48") from None
        return v

    @model_validator(mode="after")
    def _span(self) -> DutyCfg:
        if self.weeks and (self.start or self.end):
            raise ValueError("give either from/to or weeks, not both")
        if not self.weeks and not (self.start and self.end):
            raise ValueError("give from and to (dates), or weeks")
        if self.start and self.end and self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self


class RotaCfg(_Strict):
    district: list[DutyCfg] = []  # district leaders on duty
    streets: dict[str, list[DutyCfg]] = {}  # street name -> its town leaders on duty


class EscalationCfg(_Strict):
    warn_at: float = Field(0.8, ge=0, lt=1)  # early warning at this share of the time; 0: none
    after: list[str] = ["0m", "10m", "20m", "30m"]  # after the deadline: responsible, deputy, chief, command
    max_extensions: int = Field(2, ge=0)  # approved extensions per deadline
    duty_leaders: list[PersonCfg] = []  # this week's duty leaders (两级巡查轮值), told at the top of a chain
    rota: RotaCfg | None = None  # the dated duty rota; the flat duty_leaders above stay always on duty
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
    verify: Literal["grid", "street"] | None = None  # 核查结案: verified on site before the citizen rates

    @field_validator("limits")
    @classmethod
    def _limits(cls, v: dict[str, str]) -> dict[str, str]:
        for kind, text in v.items():
            if kind not in (*LIMIT_KINDS, "verify"):
                raise ValueError(f"unknown limit {kind!r}; use one of {', '.join((*LIMIT_KINDS, 'verify'))}")
            parse_duration(text)
        return v

    def to_category(self) -> Category:
        return Category(self.key, self.zh, self.en,
                        {k: parse_duration(v) for k, v in self.limits.items() if k != "verify"}, self.route_to,
                        self.verify, parse_duration(self.limits.get("verify", "1wd")))


class BindingCfg(_Strict):  # issue 11
    code_ttl: str = "24h"  # a /bind code not used within this is void

    @field_validator("code_ttl")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v).unit == "wd":
            raise ValueError("use m, h or d")
        return v


class CommandCenterCfg(_Strict):
    chat_id: int | None = None


class WorkdaysCfg(_Strict):
    holidays: list[date] = []
    workdays: list[date] = []


# ---- the Open311 GeoReport v2 API (api/) and its intake channels ---------------------------------
class ChannelCfg(_Strict):
    """A system that files cases through the API: the 12345 hotline, 数字城管, another hotline."""

    key: str = Field(pattern=r"^[a-z0-9_]{1,32}$")  # recorded on every case it files
    name: str  # shown on cards and in the trace: 来源：12345热线
    api_key_env: str  # the environment variable holding its api_key (never the key itself in the file)
    services: list[str] = []  # the service codes (categories) it may file; empty: all
    rate_limit: int = Field(600, ge=1)  # requests a minute
    callback_url: str | None = Field(None, pattern=r"^https?://")  # every change of state is POSTed here
    media_hosts: list[str] = []  # its own hosts, which its media_url may name even on a private address

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


class ApiCfg(_Strict):
    listen: str | None = None  # e.g. 127.0.0.1: the bot process serves the API there (None: it does not)
    port: int = Field(8311, ge=0, le=65535)
    public_url: str | None = None  # how channels reach the API, for the after-photo's media_url
    max_body: int = Field(64 * 1024, ge=1024)  # a larger request body is refused
    media_timeout: float = Field(10.0, gt=0)  # fetching a media_url
    channels: list[ChannelCfg] = []

    @model_validator(mode="after")
    def _unique(self) -> ApiCfg:
        keys = [c.key for c in self.channels]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"channels: duplicate {', '.join(sorted(dup))}")
        return self


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
    binding: BindingCfg = BindingCfg()
    workdays: WorkdaysCfg = WorkdaysCfg()
    api: ApiCfg = ApiCfg()
    # 监督考核: reports, league weights and floors; oversight (纪委监委, 组织部) reads everything, acts on nothing.
    assessment: AssessmentCfg = AssessmentCfg()
    oversight: list[PersonCfg] = []

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
        unknown = {s for c in self.api.channels for s in c.services} - {c.key for c in self.categories}
        if unknown:
            raise ValueError(f"api.channels: unknown service code {', '.join(sorted(unknown))}")
        if (self.grids or any(c.route_to == "grid" for c in self.categories)) and not self.geo.grids_file:
            raise ValueError("geo.grids_file is required when grids are listed or a category routes to grid")
        rota = self.escalation.rota
        unknown = sorted(set(rota.streets) - {s.name for s in self.streets}) if rota else []
        if unknown:
            raise ValueError(f"escalation.rota.streets: no street {', '.join(unknown)}")
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

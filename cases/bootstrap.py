"""The one place the core is put together from the configuration, a database and a clock.

The bot (bot/app.py), the channel-free unit tests (tests/unit/) and any later process build the core
here, so a change of how it is wired is made once. `cfg` is the validated config (bot.config.Config),
read by attribute only: nothing here imports the bot's layer.
"""

from __future__ import annotations

from datetime import date

from cases import Core
from cases.core import Department, Settings
from cases.people import Person
from cases.policy import parse_duration
from cases.rota import Duty, Rota
from cases.workdays import WorkCalendar
from geo.streets import StreetIndex
from storage.media import tag_secret


def settings_from(cfg, tag_secret: bytes = b"frontline") -> Settings:
    """The core's settings from the config; `tag_secret` keys the reporters' anonymous tags."""
    calendar = WorkCalendar(set(cfg.workdays.holidays), set(cfg.workdays.workdays))
    return Settings(
        categories=cfg.categories_by_key(), street_chats={s.name: s.chat_id for s in cfg.streets},
        command_chat=cfg.command_center.chat_id, tz=cfg.tz, calendar=calendar, case_prefix=cfg.case_prefix,
        draft_ttl=parse_duration(cfg.intake.draft_ttl).as_timedelta(),
        max_photos=cfg.intake.max_photos, max_cases_per_hour=cfg.intake.max_cases_per_hour,
        departments={d.key: Department(d.zh, d.en, d.chat_id) for d in cfg.departments}, group_lang=cfg.language,
        trackers={d.key: d.tracked_by for d in cfg.departments if d.tracked_by},
        grid_chats={g.name: g.chat_id for g in cfg.grids},
        grid_workers={w: g.name for g in cfg.grids for w in g.workers},
        checkin_radius_m=cfg.disposal.checkin_radius_m,
        checkin_live=cfg.disposal.checkin_live, checkin_photo=cfg.disposal.checkin_photo,
        call_answer=parse_duration(cfg.disposal.call_answer).as_timedelta(),
        rating_timeout=parse_duration(cfg.disposal.rating_timeout).as_timedelta(),
        warn_at=cfg.escalation.warn_at,
        escalate_after=tuple(parse_duration(x, allow_zero=True).as_timedelta() for x in cfg.escalation.after),
        chains={**{u.name: _chain(u) for u in cfg.streets}, **{u.zh: _chain(u) for u in cfg.departments}},
        duty_leaders=[Person(p.name, p.user_id) for p in cfg.escalation.duty_leaders if p.user_id],
        rota=rota_from(cfg),
        max_extensions=cfg.escalation.max_extensions,
        bind_code_ttl=parse_duration(cfg.binding.code_ttl).as_timedelta(),
        tag_secret=tag_secret, street_names_en={s.name: s.name_en or s.name for s in cfg.streets},
        oversight=[Person(p.name, p.user_id) for p in cfg.oversight], assessment=cfg.assessment)


def rota_from(cfg) -> Rota | None:
    """The dated rota, with the flat duty_leaders as always on duty; None when neither is set."""
    esc = cfg.escalation
    if esc.rota is None:
        return None

    def duty(p) -> Duty:
        weeks = frozenset(tuple(date.fromisoformat(w + "-1").isocalendar())[:2] for w in p.weeks)
        return Duty(p.name, p.user_id, p.start, p.end, weeks)
    always = [Duty(p.name, p.user_id) for p in esc.duty_leaders]
    return Rota(always + [duty(p) for p in esc.rota.district],
                {street: [duty(p) for p in people] for street, people in esc.rota.streets.items()})


def start_up_warnings(cfg, settings: Settings, today: date, days: int = 14) -> list[str]:
    """What the configuration leaves uncovered: days with nobody on duty, units without leaders."""
    out = []
    if settings.rota is not None:
        out += [f"duty rota: nobody on duty on {day.isoformat()}" + (f" for {street}" if street else " (district)")
                for day, street in settings.rota.gaps(today, days)]
    elif not settings.duty_leaders:
        out.append("escalation: no duty leaders (duty_leaders or rota): difficult cases reach the command centre only")
    for kind, units in (("street", cfg.streets), ("department", cfg.departments)):
        for unit in units:
            missing = [role for role in ("deputy", "chief") if getattr(unit, role) is None]
            if missing:
                name = unit.name if kind == "street" else f"{unit.zh} ({unit.key})"
                out.append(f"{kind} {name}: no {' and no '.join(missing)} (a late deadline says so in its "
                           "group and goes on to the next level)")
    return out


def _chain(unit) -> dict[str, Person]:
    return {role: Person(p.name, p.user_id) for role in ("deputy", "chief") if (p := getattr(unit, role))}


def build_core(cfg, db, clock, streets, grids=None, tag_secret: bytes = b"frontline", on_outbox=None) -> Core:
    """The core over `db` (storage.db.Database), with `streets` (and the optional `grids`) as
    geo.streets.StreetIndex. `on_outbox` wakes the delivery worker after a commit that wrote messages."""
    return Core(db, clock, settings_from(cfg, tag_secret), streets, on_outbox=on_outbox, grids=grids)


class MapError(ValueError):
    """A street or grid named in the config is missing from its GeoJSON file."""


def load_streets(cfg) -> StreetIndex:
    index = StreetIndex.from_geojson(cfg.geo.streets_file, crs=cfg.geo.crs, tolerance_m=cfg.geo.tolerance_m)
    missing = [s.name for s in cfg.streets if s.name not in index.names]
    if missing:
        raise MapError(f"streets: {', '.join(missing)} not found in {cfg.geo.streets_file}")
    return index


def load_grids(cfg) -> StreetIndex | None:
    """The optional grid cell layer: the same index as the streets', with no tolerance (inside or not)."""
    if not cfg.geo.grids_file:
        return None
    index = StreetIndex.from_geojson(cfg.geo.grids_file, crs=cfg.geo.crs, tolerance_m=0)
    missing = [g.name for g in cfg.grids if g.name not in index.names]
    if missing:
        raise MapError(f"grids: {', '.join(missing)} not found in {cfg.geo.grids_file}")
    return index


def core_from_config(cfg, db, clock, on_outbox=None) -> Core:
    """The whole core for a process that is not the bot (the API alone, simulations, reports): maps
    loaded (blocking: call it off the event loop), tags keyed by the secret beside the media."""
    return build_core(cfg, db, clock, load_streets(cfg), load_grids(cfg), tag_secret(cfg.media.dir), on_outbox)

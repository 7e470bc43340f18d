"""Names in the reader's language: a street's English name (config `streets[].name_en`) and a department's
(`departments[].en`) for English readers; a unit the core names by kind and key."""

from __future__ import annotations

from ui.texts import pick

CENTRE = ("指挥中心", "Command centre")  # the unit of a case no street holds (cases/stats.CENTRE, "")


def street_name(settings, name: str | None, lang: str) -> str | None:
    """`settings` is the core's Settings; a name without an English form (a grid cell's) stays as it is."""
    if name and lang == "en":
        return settings.street_names_en.get(name, name)
    return name


def department_name(settings, key: str, lang: str) -> str:
    """A department by its key; an unknown key stays as it is."""
    dept = settings.departments.get(key)
    return (dept.en if lang == "en" else dept.zh) if dept else key


def unit_name(settings, kind: str, key: str, lang: str) -> str:
    """A unit as the core gives it: ("department", key) or ("street", name), the command centre's name ""."""
    if kind == "department":
        return department_name(settings, key, lang)
    return street_name(settings, key, lang) if key else pick(CENTRE, lang)

"""Names in the reader's language: a street's English name (config `streets[].name_en`) and a department's
(`departments[].en`) for English readers."""

from __future__ import annotations


def street_name(settings, name: str | None, lang: str) -> str | None:
    """`settings` is the core's Settings; a name without an English form (a grid cell's) stays as it is."""
    if name and lang == "en":
        return settings.street_names_en.get(name, name)
    return name


def department_name(settings, key: str, lang: str) -> str:
    """A department by its key; an unknown key stays as it is."""
    dept = settings.departments.get(key)
    return (dept.en if lang == "en" else dept.zh) if dept else key

"""A person the mechanism names: a unit's deputy or chief, a duty leader, a case's handler."""

from __future__ import annotations

from typing import NamedTuple


class Person(NamedTuple):
    name: str
    user_id: int | None  # None: named in the config, not reachable privately (never started the bot)

"""Numbers in button data and deep links, read in ONE place.

Anyone can send any callback data or /start argument. A number is taken only when it is ASCII
digits (str.isdigit() also admits '²' or '٣', which int() refuses or reads as something else)
and fits the database's INTEGER: a 30-digit id would otherwise reach SQLite as an OverflowError
and the user would see "something went wrong" instead of "this button is no longer valid".
"""

from __future__ import annotations

MAX_ID = 2**31 - 1  # a 32-bit INTEGER primary key (PostgreSQL's); SQLite's are wider


def parse_int(text: str, low: int = 0, high: int = MAX_ID) -> int | None:
    """`text` as an integer in [low, high]; None when it is anything else."""
    if not isinstance(text, str) or not text or len(text) > len(str(high)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_id(text: str) -> int | None:
    """A row id (a case, a call, an extension): 1 … MAX_ID."""
    return parse_int(text, low=1)

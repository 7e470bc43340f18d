"""Telegram's size limits, and fitting what users typed into them.

Telegram refuses (400) a caption over 1,024 characters, a text over 4,096 and button data over 64
bytes, counted after the HTML is parsed, in UTF-16 code units. A card built from a long note and a
long resolution must still be sent and edited, or it keeps buttons for a state that has passed.
So the longest user-typed pieces are shortened first, with "…" (the full text stays in /case), and
whatever is still too long is cut at the end, tags closed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

CAPTION, TEXT = 1024, 4096  # button data (64 bytes) carries ids only: see bot/cards.py
ELLIPSIS = "…"
_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_len(source: str) -> int:
    """The length of an HTML text once Telegram has parsed it (tags gone, entities one character)."""
    return units(_TOKEN.sub(lambda m: "" if m.group(0).startswith("<") else html.unescape(m.group(0)), source))


def fit_html(source: str, limit: int) -> str:
    """`source` cut to `limit` visible characters with a closing "…", every open tag closed."""
    if visible_len(source) <= limit:
        return source
    budget, out, stack, pos = limit - 1, [], [], 0
    for m in [*_TOKEN.finditer(source), None]:
        plain = source[pos:m.start() if m else len(source)]
        for ch in plain:  # plain text: count each character
            if units(ch) > budget:
                return _close("".join(out) + ELLIPSIS, stack)
            budget -= units(ch)
            out.append(ch)
        if m is None:
            break
        pos, token = m.end(), m.group(0)
        if token.startswith("&"):  # an entity is one character
            if budget < 1:
                return _close("".join(out) + ELLIPSIS, stack)
            budget -= 1
        elif m.group(1):
            if stack and stack[-1] == m.group(2).lower():
                stack.pop()
        else:
            stack.append(m.group(2).lower())
        out.append(token)
    return _close("".join(out) + ELLIPSIS, stack)


def _close(text: str, stack: list[str]) -> str:
    return text + "".join(f"</{name}>" for name in reversed(stack))


def shorten(value: str, by: int) -> str:
    """`value` shorter by at least `by` characters, ending in "…"."""
    keep = max(0, len(value) - by - 1)
    return value[:keep].rstrip() + ELLIPSIS


def fit_fields(render: Callable[[dict[str, str]], str], fields: dict[str, str], limit: int) -> str:
    """Render with `fields` (raw user text, escaped by `render`); while too long, shorten the longest
    field first, so a card keeps its state lines and only what users typed loses its end."""
    fields = {k: v or "" for k, v in fields.items()}
    text = render(fields)
    over = visible_len(text) - limit
    while over > 0:
        key = max(fields, key=lambda k: len(fields[k]))
        if len(fields[key]) <= 1:
            break
        fields[key] = shorten(fields[key], over)
        text = render(fields)
        over = visible_len(text) - limit
    return fit_html(text, limit)


def chunks(lines: list[str], limit: int = TEXT) -> list[str]:
    """Lines grouped into messages of at most `limit` visible characters (a longer line is cut)."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        line = fit_html(line, limit)
        if current and visible_len("\n".join([*current, line])) > limit:
            out.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


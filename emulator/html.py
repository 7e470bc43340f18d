"""Telegram's HTML parse mode, strictly: returns the visible text and its entities, or refuses."""

from __future__ import annotations

import html
import re

ALLOWED = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
           "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
           "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote",
           "tg-emoji": "custom_emoji"}
TOKEN = re.compile(
    r"<(/?)([a-zA-Z-]+)((?:\s+[a-zA-Z-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*>"  # a tag with attributes
    r"|<|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|&")


class HtmlError(ValueError):
    pass


def parse_html(source: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    stack: list[tuple[str, int, str]] = []
    entities: list[dict] = []
    pos = 0
    for m in TOKEN.finditer(source):
        out.append(source[pos:m.start()])
        pos = m.end()
        token = m.group(0)
        if token == "<":
            raise HtmlError(f"unsupported start tag at byte offset {m.start()}")
        if token == "&":
            raise HtmlError(f"unescaped & at byte offset {m.start()}")
        if token.startswith("&"):
            out.append(html.unescape(token))
            continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        if name not in ALLOWED:
            raise HtmlError(f"unsupported start tag \"{name}\" at byte offset {m.start()}")
        offset = _utf16_len("".join(out))
        if not closing:
            stack.append((name, offset, m.group(3) or ""))
            continue
        if not stack or stack[-1][0] != name:
            expected = stack[-1][0] if stack else ""
            raise HtmlError(f"unmatched end tag at byte offset {m.start()}, expected \"</{expected}>\"")
        _, start, attrs = stack.pop()
        if offset > start:
            entity = {"type": ALLOWED[name], "offset": start, "length": offset - start}
            href = re.search(r"href\s*=\s*[\"']([^\"']*)", attrs)
            if name == "a" and href:
                entity["url"] = href.group(1)
            entities.append(entity)
    out.append(source[pos:])
    if stack:
        raise HtmlError(f"can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    text = "".join(out)
    return text, sorted(entities, key=lambda e: e["offset"])


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

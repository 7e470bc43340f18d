"""Every button's callback data, declared once: its prefix and typed fields.

The renderers write a button with `ACCEPT.data(case.id)`; the handler that takes it is declared with
the same object (`@tap(ACCEPT)` in handlers/taps.py), which reads the fields back, answers a forged or
outdated button as stale, and registers the handler under the button's pattern. Adding a button is a
line here, a button in a keyboard, and a decorated handler.

Callback data is at most 64 bytes and anyone can send any: every field is parsed strictly (ASCII
digits within range, a known code) and a button whose data does not parse is never acted on.
Trailing fields marked optional were added later (a card's round, a picker's page): a button made
before them, still in a chat, reads them as None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ui.ids import MAX_ID, parse_id, parse_int

MAX_DATA = 64  # Telegram's limit on callback_data, in bytes
# "T:<case id>:<bit mask in decimal>:typed" must fit 64 bytes with a 10-digit case id: 45 digits, 149 bits.
MAX_DEPARTMENTS = 149  # a picker's selection is a bit mask of this many departments
_KEY = re.compile(r"[A-Za-z0-9_]{1,40}")


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], object | None]  # the stored text to a value; None: not valid
    show: Callable[[object], str] = str
    widest: object = None  # the value that takes the most room (tests check 64 bytes with it)


def id_(name: str) -> Field:
    """A row id: 1 … MAX_ID."""
    return Field(name, parse_id, widest=MAX_ID)


def number(name: str, high: int = MAX_ID) -> Field:
    return Field(name, lambda s: parse_int(s, high=high), widest=high)


def code(name: str, codes: dict[str, object]) -> Field:
    """One of a few short codes, read as its value (e.g. {'g': 'good'})."""
    shows = {v: k for k, v in codes.items()}
    return Field(name, codes.get, lambda v: shows[v], widest=codes[max(codes, key=len)])


def key(name: str) -> Field:
    """A config key (a category's): letters, digits, underscore."""
    return Field(name, lambda s: s if _KEY.fullmatch(s) else None, widest="k" * 40)


def unit(name: str) -> Field:
    """A street (s3) or a department (d1) by its index in the config: ('s', 3)."""
    def parse(s: str):
        index = parse_int(s[1:], high=999) if s[:1] in ("s", "d") else None
        return None if index is None else (s[0], index)
    return Field(name, parse, lambda v: f"{v[0]}{v[1]}", widest=("d", 999))


@dataclass(frozen=True)
class Button:
    prefix: str
    fields: tuple[Field, ...] = ()
    optional: int = 0  # how many trailing fields older buttons may lack
    card: str | None = None  # the card kind this button is on, its first field the card's id (handlers/copies)
    label: tuple[str, str] | None = None  # (zh, en) words on the button, for one declared with its words
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "names", tuple(f.name for f in self.fields))

    def caption(self, lang: str) -> str:
        return self.label[1 if lang == "en" else 0]

    @property
    def pattern(self) -> str:
        return f"^{re.escape(self.prefix)}" + (":" if self.fields else "$")

    def data(self, *values) -> str:
        if len(values) != len(self.fields):
            raise TypeError(f"{self.prefix}: {len(self.fields)} fields, {len(values)} given")
        text = ":".join([self.prefix, *(f.show(v) for f, v in zip(self.fields, values, strict=True))])
        if len(text.encode()) > MAX_DATA:
            raise ValueError(f"callback data over {MAX_DATA} bytes: {text!r}")
        return text

    def read(self, data: str | None) -> tuple | None:
        """The field values of `data`, or None when it is not this button's (forged, or malformed)."""
        if not isinstance(data, str) or not re.match(self.pattern, data):
            return None
        parts = data.split(":")[1:]
        if not self.fields:
            return () if data == self.prefix else None
        if not len(self.fields) - self.optional <= len(parts) <= len(self.fields):
            return None
        values = [f.parse(p) for f, p in zip(self.fields, parts, strict=False)]
        if any(v is None for v in values):
            return None
        return (*values, *[None] * (len(self.fields) - len(parts)))


ROUND = number("round", high=999_999)
RATINGS = {"s": "satisfied", "m": "mostly", "u": "unsatisfied"}
CALL_TIMES = {"30": 30, "60": 60, "120": 120, "am": "am", "typed": "typed", "cd": "cd"}
EXTEND_WHAT = {"c": "case", "k": "call", "o": "onsite"}
EXTEND_BY = {"1h": "1h", "4h": "4h", "1wd": "1wd"}
MASK = number("mask", high=2**MAX_DEPARTMENTS - 1)
YES_NO = {"1": True, "0": False}

# ---- the citizen's private chat: the draft --------------------------------------------------------------
CATEGORY = Button("c", (key("category"),))
SKIP_NOTE = Button("d", (code("skip", {"skip": True}),))
EXIF = Button("g", (code("use", YES_NO),))  # use the photo's own position?
CONFIRM = Button("ok")
EDIT = Button("e")
EDIT_PART = Button("e", (code("part", {p: p for p in ("photos", "place", "details")}),))
CANCEL = Button("x")
RATE = Button("v", (id_("case"), code("rating", RATINGS), ROUND), optional=1)
WITHDRAW = Button("w", (id_("case"),), label=("撤回此件", "Withdraw it"))  # on the receipt, until a street accepts
SKIP_COMMENT = Button("k")

# ---- a street's group: the street card ------------------------------------------------------------------
ACCEPT = Button("a", (id_("case"),), card="street")
RESOLVE_HOW = Button("R", (id_("case"), ROUND), optional=1, card="street")
CALL = Button("C", (id_("case"), MASK, number("page", high=999)), optional=1, card="street")
PICK = Button("K", (id_("case"), MASK, number("page", high=999)), optional=1)
CALL_BY = Button("T", (id_("case"), MASK, code("when", CALL_TIMES)))
NOT_OURS = Button("N", (id_("case"),), card="street")
EXTEND_CASE = Button("W", (id_("case"),), card="street")
DIFFICULT = Button("M", (id_("case"),), card="street")
EXTEND_BY_HOW_MUCH = Button("E", (code("what", EXTEND_WHAT), id_("target"), code("by", EXTEND_BY)))
TAKE_OVER = Button("O", (id_("case"), number("user", high=2**53)))  # Telegram user ids reach 52 bits

# ---- the command centre ---------------------------------------------------------------------------------
ROUTE = Button("r", (id_("case"), number("street", high=999)), card="routing")
REBIND = Button("bd", (id_("request"), code("yes", YES_NO)))
APPROVE = Button("Y", (id_("extension"), ROUND), optional=1)
REFUSE = Button("Z", (id_("extension"), ROUND), optional=1)
ASSIGN = Button("D", (id_("case"), unit("unit")))

# ---- a department's group: the call card ----------------------------------------------------------------
ANSWER = Button("A", (id_("call"),), card="call")
EXTEND_CALL = Button("V", (id_("call"),), card="call")
DECLINE = Button("X", (id_("call"),), card="call")
DISPUTE = Button("Q", (id_("call"),))  # the street disputes a department's "not ours"
RATE_DEPARTMENT = Button("m", (id_("call"), code("value", {"g": "good", "f": "fair", "p": "poor"}), ROUND),
                         optional=1)
RATE_CALL = Button("n", (id_("call"), code("value", {"a": "accurate", "i": "inaccurate"}), ROUND), optional=1)

# ---- verification (核查) -------------------------------------------------------------------------------
VERIFY = Button("vf", (id_("case"), code("done", YES_NO)))

ALL: tuple[Button, ...] = tuple(v for v in globals().values() if isinstance(v, Button))
CARD_BUTTONS = {b.prefix: b.card for b in ALL if b.card}  # the buttons that name the card they are on


def _check() -> None:
    """Two buttons may share a prefix only if one has fields and the other none (e, e:part)."""
    seen: dict[tuple[str, bool], Button] = {}
    for b in ALL:
        clash = seen.setdefault((b.prefix, bool(b.fields)), b)
        if clash is not b:
            raise RuntimeError(f"two buttons with prefix {b.prefix!r}")


_check()

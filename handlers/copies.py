"""Taps on and replies to copies of the bot's cards that the database does not know yet.

Runs before the other handlers (handler group -1): when the message tapped or replied to is one of
the bot's own, in a group, and no Card row has it, its title (the first line: "🆕 诉求 GL-…",
"📣 呼叫 GL-…", …) and its buttons say which card of which case it is; cases/copies.py records it
and queues an edit. The handlers that follow then find it like any other card.
"""

from __future__ import annotations

import re
from functools import cache

from telegram import Message, Update

from cases.copies import CardCopies, Copy
from handlers.common import core
from handlers.context import Context
from ui.buttons import ANSWER, CARD_BUTTONS
from ui.ids import parse_id
from ui.texts import TEXTS

TITLES = {"card_title": "street", "card_title_reopened": "street", "routing_title": "routing",
          "routing_title_returned": "routing", "call_title": "call", "tracking_title": "track"}
# the callback data that may come from a card: its prefix names the card, its first field is the id
TAPPABLE = "^(?:" + "|".join(re.escape(p) for p in CARD_BUTTONS) + "):"


@cache
def title_patterns() -> list[tuple[re.Pattern, str]]:
    """Each card title, both languages, as a pattern that reads the case number (and the round)."""
    patterns = []
    for key, kind in TITLES.items():
        for template in TEXTS[key]:
            rx = re.escape(template).replace(r"\{number\}", r"(?P<number>[A-Za-z0-9]+-\d{8}-\d+)")
            rx = rx.replace(r"\{round\}", r"(?P<round>\d{1,6})")
            rx = re.sub(r"\\\{\w+\\\}", ".*?", rx)
            patterns.append((re.compile(rx), kind))
    return patterns


def read_copy(msg: Message, data: str | None) -> Copy | None:
    """What card the message is, from its title, cross-checked with the ids its buttons carry."""
    first = (msg.caption or msg.text or "").split("\n", 1)[0]
    m, kind = next(((m, kind) for pattern, kind in title_patterns() if (m := pattern.fullmatch(first))),
                   (None, None))
    if m is None:
        return None
    round_ = int(m.group("round")) - 1 if "round" in m.groupdict() else 0
    found = Copy(kind, m.group("number"), max(round_, 0))
    buttons = [data] if data else []
    for row in (msg.reply_markup.inline_keyboard if msg.reply_markup else ()):
        buttons += [b.callback_data for b in row if isinstance(b.callback_data, str)]
        # a call card's check-in link names its call, as its answer button does
        buttons += [f"{ANSWER.prefix}:{b.url.rsplit('=ci', 1)[1]}" for b in row if b.url and "=ci" in b.url]
    for button in buttons:
        prefix, _, rest = button.partition(":")
        if CARD_BUTTONS.get(prefix) == kind and rest:
            found.target_id = parse_id(rest.split(":")[0])
            if found.target_id is None:
                return None  # a forged id: not ours to record
            break
    return found


async def _adopt(context: Context, msg: Message | None, data: str | None) -> None:
    if msg is None or msg.chat.type not in ("group", "supergroup"):
        return
    c = core(context)
    if await c.lifecycle.card_at(msg.chat_id, msg.message_id):  # the usual case: a known card
        return
    found = read_copy(msg, data)
    if found:
        await CardCopies(c.db, c.clock, c.settings, c.directory, c.outbox_written).record(
            msg.chat_id, msg.message_id, bool(msg.photo), found)


async def on_tap(update: Update, context: Context) -> None:
    query = update.callback_query
    message = query.message if isinstance(query.message, Message) else None  # not an inaccessible one
    await _adopt(context, message, query.data)


async def on_reply(update: Update, context: Context) -> None:
    replied = update.effective_message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == context.bot.id:
        await _adopt(context, replied, None)

"""One way in for every button: `@tap(BUTTON, …)` over the handler that takes it.

The decorator reads the callback data by the button it was made from (ui/buttons.py), answers a
forged, malformed or outdated one as stale, and in a group lets only the group's members act
(`member=True`); the handler gets the parsed fields. Every decorated handler is listed in TAPS,
which bot/app.py registers under each one's pattern: a new button needs no edit there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from telegram import CallbackQuery, Update, User
from telegram.constants import ChatMemberStatus

from handlers.common import lang
from ui.buttons import ALL, Button
from ui.texts import t

MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER,
          ChatMemberStatus.RESTRICTED}
TAPS: list = []  # every decorated handler, in declaration order


async def is_member(context, chat_id: int, user_id: int) -> bool:
    if chat_id == user_id:  # their own private chat (a duty leader's approvals and assignments)
        return True
    member = await context.bot.get_chat_member(chat_id, user_id)
    # A restricted user who left the group is still "restricted", with is_member false (issue 11).
    return member.status in MEMBER and getattr(member, "is_member", True)


@dataclass(frozen=True)
class Tap:
    query: CallbackQuery
    user: User
    lg: str  # the tapper's language
    button: Button  # which of the handler's buttons it was
    values: tuple  # its fields, parsed (an optional one an older button lacks is None)

    @property
    def chat_id(self) -> int:
        return self.query.message.chat_id


def tap(*buttons: Button, member: bool = False):
    def wrap(fn):
        @functools.wraps(fn)
        async def handler(update: Update, context) -> None:
            query, lg = update.callback_query, lang(update, context)
            for button in buttons:
                values = button.read(query.data)
                if values is not None:
                    break
            else:
                return await query.answer(t("stale", lg))
            if member and not await is_member(context, query.message.chat_id, update.effective_user.id):
                return await query.answer(t("not_your_group", lg), show_alert=True)
            return await fn(update, context, Tap(query, update.effective_user, lg, button, values))
        handler.pattern = "|".join(f"(?:{b.pattern})" for b in buttons)
        handler.buttons = buttons
        TAPS.append(handler)
        return handler
    return wrap


def unhandled() -> list[str]:
    """Buttons no registered handler takes (a handler module not imported, or a button forgotten):
    checked at start, so such a button fails there and not on a user's tap."""
    taken = {id(b) for handler in TAPS for b in handler.buttons}
    return [b.prefix for b in ALL if id(b) not in taken]

"""A question the citizen never got: asked again on their next message.

The next question of a report is a direct answer (the user is waiting for it), not an outbox row.
bot/flood.py retries it through a passing 5xx or network error; when it still fails, the error
handler below remembers that this user is owed their question, and the user's next message, of
whatever kind, gets it again, from the draft (handler group 1: after the message's own handler,
which may have asked it already; handlers/citizen.py's prompt() clears the debt when it asks).
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError

from handlers.common import core
from handlers.context import Context

OWED = "owed_question"


async def remember(update: object, context: Context) -> None:
    """Error handler: a direct answer in a private chat was lost to the network (or a 5xx)."""
    error = context.error
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE \
            and isinstance(error, NetworkError) and not isinstance(error, BadRequest) \
            and context.user_data is not None:
        context.user_data[OWED] = True


async def ask_again(update: Update, context: Context) -> None:
    """Any private message: if this user is owed a question, ask it again (from the draft)."""
    if not context.user_data or not context.user_data.pop(OWED, False):
        return
    view = await core(context).intake.get_draft(update.effective_user.id)
    if view is not None:
        from handlers.citizen import prompt
        await prompt(update, view, context)

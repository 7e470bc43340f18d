"""Grid workers (网格员) report from their grid group too: the same draft as in the private chat."""

from __future__ import annotations

from telegram import Update

from handlers import citizen
from handlers.common import core
from handlers.context import Context


async def on_group_report(update: Update, context: Context) -> None:
    """A photo or a place posted in a grid group by one of that grid's workers starts or feeds their
    draft; anything else said in the group is ordinary talk and left alone."""
    grid = await core(context).bindings.worker_grid(update.effective_user.id) if update.effective_user else None
    if grid is None or core(context).directory.grid_chats.get(grid) != update.effective_chat.id:
        return
    if update.effective_message.photo:
        await citizen.on_photo(update, context)
    else:
        await citizen.on_place(update, context)

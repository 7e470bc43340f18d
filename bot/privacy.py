"""A start-up check for group privacy mode: grid groups need the bot to see plain messages.

A bot in privacy mode (BotFather's default) that is not an administrator of a group receives only
commands, replies to its messages and mentions. Street and department groups work that way (taps,
commands, replies to cards); a grid group does not: its workers post plain photos and places. An
operator who forgets would see reports silently ignored, so each such grid group is named in the log.
"""

from __future__ import annotations

import logging

from telegram.error import TelegramError

log = logging.getLogger(__name__)


async def blind_grid_groups(bot, grid_chats: dict[str, int | None]) -> list[str]:
    """The grid cells whose group the bot cannot read (each is logged as a warning)."""
    if bot.can_read_all_group_messages:  # privacy mode turned off: the bot sees every message
        return []
    blind = []
    for grid, chat_id in grid_chats.items():
        if chat_id is None:
            continue
        try:
            member = await bot.get_chat_member(chat_id, bot.id)
        except TelegramError as exc:
            log.warning("grid group of %s (%s): cannot check the bot's rights: %s", grid, chat_id, exc.message)
            continue
        if member.status not in ("administrator", "creator"):
            blind.append(grid)
            log.warning("grid group of %s (%s): the bot is not an administrator and privacy mode is on, so it "
                        "does not see the grid workers' photos and places; make it an administrator (or turn "
                        "privacy mode off with BotFather's /setprivacy)", grid, chat_id)
    return blind

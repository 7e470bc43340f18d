"""The local Bot API emulator (tests and the demo run the real bot against it)."""

from emulator.botapi import BotApiEmulator, User

__all__ = ["BotApiEmulator", "User"]

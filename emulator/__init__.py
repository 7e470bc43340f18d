"""The local Bot API emulator (tests and the demo run the real bot against it)."""

from emulator.server import BotApiEmulator, Call, User

__all__ = ["BotApiEmulator", "Call", "User"]

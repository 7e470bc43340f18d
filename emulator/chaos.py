"""Random faults for the chaos run (bench/chaos.py): a share of Bot API calls fail as Telegram's do.

Each call (not getUpdates, downloads or the start-up calls) draws once: with `p_5xx` it fails with
500/502 before taking effect, with `p_429` it is refused with retry_after, and with `p_after_send`
it takes effect and then answers 502 (the client cannot know it went through: the one case where a
message may rightly arrive twice). What was drawn is counted in `counts`.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from emulator.server import BACKGROUND, Fault

SPARED = BACKGROUND | {"getMe", "setWebhook", "deleteWebhook", "setMyCommands", "getWebhookInfo"}


@dataclass
class Chaos:
    p_5xx: float = 0.10
    p_429: float = 0.02
    p_after_send: float = 0.0
    retry_after: int = 1
    seed: int = 1
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._rng = random.Random(self.seed)

    def draw(self, method: str) -> Fault | None:
        if method in SPARED:
            return None
        x = self._rng.random()
        if x < self.p_5xx:
            status = self._rng.choice((500, 502))
            self.counts[str(status)] += 1
            return Fault(method, status, None, 1)
        if x < self.p_5xx + self.p_429:
            self.counts["429"] += 1
            return Fault(method, 429, self.retry_after, 1)
        if x < self.p_5xx + self.p_429 + self.p_after_send:
            self.counts["after_send"] += 1
            return Fault(method, 502, None, 1, after_send=True)
        return None

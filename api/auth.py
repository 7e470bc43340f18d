"""Channels and their keys: who may file which services, how often. A missing or wrong key is a 403."""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field

from api.errors import ApiError

log = logging.getLogger(__name__)


@dataclass
class Channel:
    key: str
    name: str
    api_key: str
    services: frozenset[str]  # empty: every service
    rate_limit: int  # requests a minute
    callback_url: str | None = None
    media_hosts: frozenset[str] = frozenset()
    _tokens: float = field(default=-1.0, repr=False)
    _at: float = field(default=0.0, repr=False)

    def allows(self, service_code: str) -> bool:
        return not self.services or service_code in self.services

    def take(self, now: float) -> bool:
        """A token bucket: `rate_limit` a minute, bursts up to that many."""
        if self._tokens < 0:
            self._tokens, self._at = float(self.rate_limit), now
        self._tokens = min(float(self.rate_limit), self._tokens + (now - self._at) * self.rate_limit / 60)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def channels_from(cfg_channels) -> dict[str, Channel]:
    """Channels whose key is set in the environment; one without a key cannot be used (and says so)."""
    out = {}
    for c in cfg_channels:
        key = c.api_key
        if not key:
            log.warning("api channel %s: %s is not set, so it cannot file anything", c.key, c.api_key_env)
            continue
        out[c.key] = Channel(c.key, c.name, key, frozenset(c.services), c.rate_limit, c.callback_url,
                             frozenset(c.media_hosts))
    return out


class Keys:
    def __init__(self, channels: dict[str, Channel], clock=time.monotonic):
        self.channels, self.clock = channels, clock

    def channel(self, api_key: str | None) -> Channel:
        """The channel holding `api_key`, within its rate limit; else the spec's 403 (or 429)."""
        if not api_key:
            raise ApiError(403, "api_key: missing")
        given = api_key.encode()
        found = None
        for channel in self.channels.values():  # compare with every key, in constant time each
            if hmac.compare_digest(channel.api_key.encode(), given):
                found = channel
        if found is None:
            raise ApiError(403, "api_key: not valid")
        if not found.take(self.clock()):
            raise ApiError(429, f"api_key: more than {found.rate_limit} requests a minute")
        return found

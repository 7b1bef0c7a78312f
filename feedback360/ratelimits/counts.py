"""Counts kept against limits in the rate-limit storage: memory, or Redis shared by every worker."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Flask, current_app
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from feedback360.config import ConfigError
from feedback360.ratelimits.memory import LockedMemoryStorage

EXTENSION = "feedback360.rate_counts"
T = TypeVar("T")
log = logging.getLogger(__name__)


def digest(text: str) -> str:
    # Counters are named by a hash: a token or an email address never reaches the store.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def limits_of(app: Flask, key: str) -> list[RateLimitItem]:
    """The limits a setting holds ("5 per minute; 20 per hour"); a ConfigError if unreadable."""
    try:
        return parse_many(str(app.config[key]))
    except ValueError as error:
        raise ConfigError(f"{key} is not a rate limit such as '5 per minute': {error}") from error


class Counts:
    """Counts under a name against limits, in the storage of the app's flask-limiter.

    While that storage cannot be reached (Redis down), each worker counts in its own memory,
    as flask-limiter does for its limits: slower guessing is kept, and nobody meets an error.
    """

    def __init__(self, limiter: Limiter, prefix: str) -> None:
        self._limiter = limiter
        self._prefix = prefix
        self._own_memory = FixedWindowRateLimiter(LockedMemoryStorage())

    def wait(self, limits: Sequence[RateLimitItem], *name: str) -> int:
        """Seconds until each limit has room for one more under the name; 0: room now."""

        def wait_with(counter: RateLimiter) -> int:
            ends = [
                counter.get_window_stats(limit, self._prefix, *name).reset_time
                for limit in limits
                if not counter.test(limit, self._prefix, *name)
            ]
            return max((max(1, math.ceil(end - time.time())) for end in ends), default=0)

        return self._counted(wait_with)

    def hit(self, limits: Sequence[RateLimitItem], *name: str) -> bool:
        """Count one more under the name against each limit; False if any is now over it."""
        return self._counted(
            lambda counter: all([counter.hit(limit, self._prefix, *name) for limit in limits])
        )

    def full(self, limits: Sequence[RateLimitItem], *name: str) -> bool:
        """Whether any limit has no room left under the name."""
        return self.wait(limits, *name) > 0

    def clear(self, limits: Sequence[RateLimitItem], *name: str) -> None:
        self._counted(
            lambda counter: [counter.clear(limit, self._prefix, *name) for limit in limits]
        )

    def _counted(self, count: Callable[[RateLimiter], T]) -> T:
        client_errors = self._limiter.storage.base_exceptions  # redis.RedisError for Redis
        try:
            return count(self._limiter.limiter)
        except (StorageError, client_errors):  # type: ignore[misc]
            log.warning("Rate-limit storage unreachable: counting in this worker's memory")
            return count(self._own_memory)


def counts() -> Counts:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]

"""Fixed-window rate limits shared by every node through Redis, per node when Redis is unset or down.

Counters are not data (losing them only resets the windows), so they live in Redis, the speed layer.
"""

from __future__ import annotations

import logging
import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .cache import transaction
from .errors import TooManyRequests

log = logging.getLogger(__name__)


class LocalWindows:
    """In-process fixed windows, bounded: expired windows are pruned when the table grows."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._max = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        now = time.monotonic()
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window_s, 0
        self._windows[key] = (ends, count + 1)
        if len(self._windows) > self._max:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return count + 1, ends - now


class RateLimiter:
    def __init__(self, redis: Redis | None, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "ratelimit:"
        self._local = LocalWindows()

    async def hit(self, key: str, *, limit: int, window_s: int, what: str) -> None:
        """Count one attempt; raise 429 (with Retry-After) past ``limit`` in the current window."""
        count, retry_after = await self._count(key, window_s)
        if count > limit:
            raise TooManyRequests(
                f"Too many {what}; try again in {math.ceil(retry_after)} s.",
                headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
            )

    async def _count(self, key: str, window_s: int) -> tuple[int, float]:
        if self._redis is not None:
            full = self._prefix + key
            try:
                # SET NX starts the window with its expiry; INCR counts inside it
                _, count, ttl = await transaction(
                    self._redis, [("SET", full, 0, "EX", window_s, "NX"), ("INCR", full), ("TTL", full)]
                )
                return int(count), float(max(int(ttl), 1))
            except RedisError as exc:
                log.warning("redis unavailable, rate limits count per node", extra={"error": repr(exc)})
        return self._local.hit(key, window_s)

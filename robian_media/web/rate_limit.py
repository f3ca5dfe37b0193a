"""Requests per client address per sliding minute, shared by every node through Redis.

Sliding-window counter: the estimate is ``previous * (1 - elapsed / window) + current`` over
wall-clock-aligned fixed windows (the same buckets on every node). A request is decided from this
node's memory (no Redis round trip on the request path); a background task pushes this node's hits
to Redis every ``SYNC_INTERVAL_S`` (``INCRBY``) and reads back every node's total. Without Redis, or
while it is down, each node limits on its own counts. Clients are keyed as ``client_address`` says.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..ops.background import running
from . import keys
from .client_address import client_key
from .errors import TooManyRequests

log = logging.getLogger(__name__)

WINDOW_S = 60
SYNC_INTERVAL_S = 0.25
# liveness probes, scrapes, media segments and the docs are never limited
EXEMPT_PREFIXES = ("/health", "/metrics", "/hls/", "/api/docs")


@dataclass(slots=True)
class Counter:
    window: int  # index of the current fixed window
    current: int  # hits in it: every node's as of the last sync, plus ours since
    previous: int  # hits in the window before
    unsynced: int = 0  # our hits not pushed to Redis yet


class RateLimiter:
    def __init__(
        self,
        *,
        limit: int,
        redis: Redis | None = None,
        prefix: str = "",
        window_s: int = WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._redis = redis
        self._prefix = prefix + "ratelimit:"
        self._counters: dict[str, Counter] = {}
        self._redis_down_until = 0.0

    # -- deciding ------------------------------------------------------------------------------
    def hit(self, key: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait before retrying."""
        now = self._clock()
        window = int(now // self.window_s)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = Counter(window, 0, 0)
        elif counter.window != window:
            counter.previous = counter.current if counter.window == window - 1 else 0
            counter.window, counter.current, counter.unsynced = window, 0, 0
        elapsed = now - window * self.window_s
        weight = 1 - elapsed / self.window_s
        if counter.previous * weight + counter.current + 1 > self.limit:
            return self._retry_after(counter, elapsed)
        counter.current += 1
        counter.unsynced += 1
        return None

    def _retry_after(self, counter: Counter, elapsed: float) -> int:
        w, room = self.window_s, self.limit - 1  # hits allowed besides this one
        if counter.current <= room and counter.previous:
            # later in this window, once the previous window's weight has decayed enough
            wait = w * (1 - (room - counter.current) / counter.previous) - elapsed
        else:
            # in the next window, once this window's hits (then "previous") have decayed enough
            decay = w * (1 - room / counter.current) if counter.current > room else 0.0
            wait = (w - elapsed) + decay
        return max(1, min(w, math.ceil(wait)))

    # -- sharing through Redis -----------------------------------------------------------------
    def _prune(self, window: int) -> None:
        stale = [k for k, c in self._counters.items() if c.window < window - 1]
        for key in stale:
            del self._counters[key]

    async def sync(self) -> None:
        """Push this node's hits of the current window, read back every node's totals."""
        window = int(self._clock() // self.window_s)
        self._prune(window)
        if self._redis is None or self._redis_down_until > time.monotonic():
            return
        pending = [(k, c, c.unsynced) for k, c in self._counters.items() if c.window == window and c.unsynced]
        if not pending:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, _, sent in pending:
                    redis_key = f"{self._prefix}{key}:{window}"
                    pipe.incrby(redis_key, sent)
                    pipe.expire(redis_key, self.window_s * 2)
                results = await pipe.execute()
        except RedisError as exc:
            if self._redis_down_until < time.monotonic():
                log.warning("redis unavailable, rate limits are per node", extra={"error": repr(exc)})
            self._redis_down_until = time.monotonic() + 1.0
            return
        for (_, counter, sent), total in zip(pending, results[::2], strict=True):
            if counter.window == window:
                counter.unsynced -= sent
                counter.current = int(total) + counter.unsynced

    async def run(self) -> None:
        await sync_forever(self.sync)


async def sync_forever(sync: Callable[[], Awaitable[None]]) -> None:
    """Call ``sync`` every ``SYNC_INTERVAL_S`` until cancelled.

    A cancel that lands inside a Redis call can come back as a RedisError, which ``sync`` absorbs;
    the task is then still marked cancelling but would loop on, and whoever awaits it (the app's
    cleanup) would wait forever. So the mark is checked after every round.
    """
    while True:
        await asyncio.sleep(SYNC_INTERVAL_S)
        await sync()
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError


def limit_rate(request: web.Request, limiter: RateLimiter) -> None:
    """Count the request against its client's limit; a 429 problem once the limit is reached."""
    if request.method == "OPTIONS" or request.path.startswith(EXEMPT_PREFIXES):
        return
    retry_after = limiter.hit(client_key(request))
    if retry_after is not None:
        raise TooManyRequests(
            f"More than {limiter.limit} requests a minute come from your address; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


async def rate_limit_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if settings.rate_limit_per_minute <= 0:
        yield
        return
    limiter = RateLimiter(
        limit=settings.rate_limit_per_minute,
        redis=app.get(keys.REDIS),
        prefix=settings.redis_prefix,
    )
    app[keys.RATE_LIMITER] = limiter
    async with running(limiter.run(), "rate-limit-sync"):
        yield

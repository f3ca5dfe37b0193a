"""The Redis client every process uses (API, workers): short timeouts, one immediate retry."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect_redis(url: str, *, socket_timeout: float = 0.5) -> Redis:
    # short timeouts and one immediate retry (a pooled connection that died with a Redis restart):
    # a down Redis must cost a request milliseconds, not seconds
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 1),
    )

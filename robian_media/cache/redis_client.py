"""Redis client and cache construction shared by every process (API, workers, CLI)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..settings import Settings
from .store import Cache


def create_redis(url: str, *, socket_timeout: float = 0.5) -> Redis:
    # short timeouts and one immediate retry (a pooled connection that died with a Redis restart):
    # a down Redis must cost a request milliseconds, not seconds
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 1),
    )


def create_cache(settings: Settings, redis: Redis | None) -> Cache:
    return Cache(
        redis,
        prefix=settings.redis_prefix,
        ttls=settings.cache_ttls(),
        local_max_entries=settings.cache_local_max_entries,
    )

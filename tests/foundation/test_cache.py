"""The namespaced cache on real Redis, its in-memory fallback, and recovery when Redis returns."""

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from robian_media.cache.store import Cache
from tests.services import RedisServer, free_port

TTLS = {"debates": 300, "streaming": 3600, "metadata": 86400}


def make_cache(url: str | None, prefix: str) -> tuple[Cache, Redis | None]:
    redis = (
        Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1))
        if url
        else None
    )
    return Cache(redis, prefix=prefix, ttls=TTLS, local_max_entries=64), redis


async def test_values_expire_with_the_namespace_ttl(redis_url: str, redis_prefix: str) -> None:
    cache, redis = make_cache(redis_url, redis_prefix)
    assert redis is not None
    await cache.set("debates", "list:1", b"payload")
    assert await cache.get("debates", "list:1") == b"payload"
    ttl = await redis.ttl(f"{redis_prefix}cache:debates:list:1")
    assert 290 < ttl <= 300
    await cache.set("metadata", "speakers", b"x")
    assert 86000 < await redis.ttl(f"{redis_prefix}cache:metadata:speakers") <= 86400
    await redis.aclose()


async def test_invalidate_one_key_or_a_namespace(redis_url: str, redis_prefix: str) -> None:
    cache, redis = make_cache(redis_url, redis_prefix)
    for key in ("a", "b", "c"):
        await cache.set("debates", key, key.encode())
    await cache.set("streaming", "a", b"kept")
    await cache.invalidate("debates", "a")
    assert await cache.get("debates", "a") is None
    assert await cache.get("debates", "b") == b"b"
    await cache.invalidate("debates")
    assert await cache.get("debates", "b") is None and await cache.get("debates", "c") is None
    assert await cache.get("streaming", "a") == b"kept"
    assert redis is not None
    await redis.aclose()


async def test_without_redis_the_cache_is_a_bounded_local_lru(redis_prefix: str) -> None:
    cache, _ = make_cache(None, redis_prefix)
    assert cache.backend == "local"
    for i in range(100):
        await cache.set("debates", str(i), b"v")
    assert await cache.get("debates", "99") == b"v"
    assert await cache.get("debates", "0") is None  # evicted: at most 64 entries


async def test_unreachable_redis_falls_back_quickly(redis_prefix: str) -> None:
    cache, redis = make_cache(f"redis://127.0.0.1:{free_port()}/0", redis_prefix)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await cache.set("debates", "k", b"v")
    assert await cache.get("debates", "k") == b"v"
    assert cache.backend == "local-fallback"
    assert loop.time() - started < 1.5
    assert redis is not None
    await redis.aclose()


async def test_redis_outage_then_recovery_replays_invalidations(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    cache, redis = make_cache(redis_server.url, redis_prefix)
    other_node, other_redis = make_cache(redis_server.url, redis_prefix)
    await cache.set("debates", "list", b"old")
    assert await other_node.get("debates", "list") == b"old"

    redis_server.stop()
    await cache.invalidate("debates", "list")  # the debate changed while Redis was down
    await cache.set("debates", "during", b"local")
    assert await cache.get("debates", "during") == b"local"
    assert cache.backend == "local-fallback"

    redis_server.start()  # a fresh, empty Redis on the same port
    await asyncio.sleep(1.1)
    await other_node.set("debates", "list", b"stale-from-before")  # what a node could have written back
    assert await cache.get("debates", "list") is None  # invalidation replayed on recovery
    assert cache.backend == "redis"
    assert await other_node.get("debates", "list") is None
    for client in (redis, other_redis):
        assert client is not None
        await client.aclose()


async def test_concurrent_misses_build_once(redis_url: str, redis_prefix: str) -> None:
    cache, redis = make_cache(redis_url, redis_prefix)
    calls = 0

    async def build() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return b"built"

    results = await asyncio.gather(*(cache.get_or_build("debates", "hot", build) for _ in range(50)))
    assert results == [b"built"] * 50
    assert calls == 1
    assert redis is not None
    await redis.aclose()


async def test_failed_build_reaches_every_waiter_and_is_not_cached(redis_url: str, redis_prefix: str) -> Any:
    cache, redis = make_cache(redis_url, redis_prefix)

    async def build() -> bytes:
        await asyncio.sleep(0.05)
        raise ValueError("database said no")

    results = await asyncio.gather(
        *(cache.get_or_build("debates", "bad", build) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)
    assert await cache.get("debates", "bad") is None
    assert redis is not None
    await redis.aclose()


async def test_a_build_overtaken_by_an_invalidation_is_not_cached(redis_url: str, redis_prefix: str) -> None:
    """A reader building while a publish invalidates must not store the old state for a whole TTL,
    whether the invalidation comes from this node, another node, or there is no Redis at all."""
    reader, redis = make_cache(redis_url, redis_prefix)
    publisher, other = make_cache(redis_url, redis_prefix)
    local_only, _ = make_cache(None, redis_prefix)
    for building, invalidating in ((reader, reader), (reader, publisher), (local_only, local_only)):
        started, release = asyncio.Event(), asyncio.Event()

        async def slow_build(started: asyncio.Event = started, release: asyncio.Event = release) -> bytes:
            started.set()
            await release.wait()
            return b"before the publish"

        task = asyncio.create_task(building.get_or_build("streaming", "stream:1", slow_build))
        await started.wait()
        await invalidating.invalidate("streaming", "stream:1")
        release.set()
        assert await task == b"before the publish"  # this caller still gets what it built
        assert await building.get("streaming", "stream:1") is None  # but nobody else will

        async def fresh_build() -> bytes:
            return b"after the publish"

        assert await building.get_or_build("streaming", "stream:1", fresh_build) == b"after the publish"
        assert await building.get("streaming", "stream:1") == b"after the publish"
        await building.invalidate("streaming")
    assert redis is not None and other is not None
    await redis.aclose()
    await other.aclose()


async def get_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


async def test_concurrent_reads_of_one_key_cost_redis_one_get(redis_server: RedisServer) -> None:
    # a popular answer asked by many requests at once: Redis sees one GET, not one per request
    cache, redis = make_cache(redis_server.url, "coalesce:")
    assert redis is not None
    await cache.set("debates", "list", b"v1")
    before = await get_calls(redis)
    values = await asyncio.gather(*(cache.get("debates", "list") for _ in range(50)))
    assert values == [b"v1"] * 50
    assert await get_calls(redis) - before == 1
    # once invalidated and rebuilt, readers get the new value, never one read before the invalidation
    await cache.invalidate("debates", "list")
    await cache.set("debates", "list", b"v2")
    values = await asyncio.gather(*(cache.get("debates", "list") for _ in range(50)))
    assert values == [b"v2"] * 50
    await redis.aclose()

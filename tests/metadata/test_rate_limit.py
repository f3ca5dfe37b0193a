"""Per-client rate limiting: 429 + Retry-After, exemptions, proxies, sharing through Redis, outages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from robian_media.app import create_app
from robian_media.cache.redis_client import create_redis
from robian_media.settings import Settings
from robian_media.web.rate_limit import RateLimiter
from tests.services import RedisServer, free_port

ClientFactory = Callable[..., Any]


async def statuses(client: Any, count: int, path: str = "/api/v1/speakers", **headers: str) -> list[int]:
    return [(await client.get(path, headers=headers)).status for _ in range(count)]


async def test_over_the_limit_is_a_429_with_retry_after(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(rate_limit_per_minute=5)))
    assert await statuses(client, 5) == [200] * 5
    resp = await client.get("/api/v1/debates")
    problem = await resp.json(content_type=None)
    assert resp.status == 429 and resp.content_type == "application/problem+json"
    assert problem["status"] == 429 and "5 requests a minute" in problem["detail"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60

    # probes, scrapes and media are never limited
    assert await statuses(client, 3, "/health") == [200] * 3
    assert await statuses(client, 3, "/metrics") == [200] * 3
    # another client behind our (trusted, loopback) proxy has its own budget
    assert await statuses(client, 5, **{"X-Forwarded-For": "203.0.113.7"}) == [200] * 5
    assert await statuses(client, 1, **{"X-Forwarded-For": "203.0.113.7"}) == [429]
    # a client cannot pick its address by adding hops in front of the proxy's
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert await statuses(client, 1, **spoofed) == [429]


async def test_forwarded_for_from_untrusted_peers_is_ignored(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(
        create_app(make_settings(rate_limit_per_minute=3, trusted_proxies="10.0.0.0/8"))
    )
    assert await statuses(client, 3, **{"X-Forwarded-For": "203.0.113.1"}) == [200] * 3
    assert await statuses(client, 1, **{"X-Forwarded-For": "203.0.113.2"}) == [429]


async def test_limit_zero_turns_it_off(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(rate_limit_per_minute=0)))
    assert set(await statuses(client, 30)) == {200}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_nodes_share_counts_through_redis(redis_url: str, redis_prefix: str) -> None:
    clock = Clock(6_000_000.0)  # the start of a window
    redis = create_redis(redis_url)
    node_a, node_b = (RateLimiter(limit=6, redis=redis, prefix=redis_prefix, clock=clock) for _ in range(2))
    assert [node_a.hit("198.51.100.9") for _ in range(4)] == [None] * 4
    await node_a.sync()
    assert node_b.hit("198.51.100.9") is None
    await node_b.sync()  # node b now knows the 4 hits seen by node a
    assert node_b.hit("198.51.100.9") is None
    assert node_b.hit("198.51.100.9") is not None
    assert node_b.hit("192.0.2.1") is None  # others are not affected
    await node_b.sync()
    await redis.aclose()
    raw = Redis.from_url(redis_url)
    assert int(await raw.get(f"{redis_prefix}ratelimit:198.51.100.9:100000")) == 6
    await raw.aclose()


async def test_retry_after_is_truthful() -> None:
    clock = Clock(6_000_000.0 + 30)  # halfway through a window
    limiter = RateLimiter(limit=10, clock=clock)
    assert [limiter.hit("c") for _ in range(10)] == [None] * 10
    retry_after = limiter.hit("c")
    assert retry_after is not None
    clock.now += retry_after - 1
    assert limiter.hit("c") is not None
    clock.now += 1
    assert limiter.hit("c") is None


async def test_ipv6_clients_are_counted_per_slash_64(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(rate_limit_per_minute=2)))
    assert await statuses(client, 1, **{"X-Forwarded-For": "2001:db8:1:2::1"}) == [200]
    assert await statuses(client, 1, **{"X-Forwarded-For": "2001:db8:1:2:ffff::9"}) == [200]
    assert await statuses(client, 1, **{"X-Forwarded-For": "2001:db8:1:2::77"}) == [429]
    assert await statuses(client, 1, **{"X-Forwarded-For": "2001:db8:1:3::1"}) == [200]


async def test_redis_down_limits_per_node(redis_server: RedisServer, redis_prefix: str) -> None:
    clock = Clock(6_000_000.0)
    redis = create_redis(redis_server.url)
    limiter = RateLimiter(limit=3, redis=redis, prefix=redis_prefix, clock=clock)
    assert limiter.hit("c") is None
    await limiter.sync()
    redis_server.stop()
    assert [limiter.hit("c") for _ in range(2)] == [None, None]
    await limiter.sync()  # logs and carries on
    assert limiter.hit("c") is not None
    nowhere = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    unreachable = RateLimiter(limit=1, redis=nowhere, clock=clock)
    assert unreachable.hit("c") is None
    await unreachable.sync()
    assert unreachable.hit("c") is not None
    redis_server.start()
    for client in (redis, nowhere):
        await client.aclose()


async def test_forwarded_for_from_an_untrusted_peer_is_warned_about_once(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy missing from ROBIAN_TRUSTED_PROXIES (127.0.0.2 here) makes all its clients one: say so."""
    server = TestServer(create_app(make_settings()), host="127.0.0.1")
    await server.start_server()
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            for client in ("203.0.113.1", "203.0.113.2"):
                async with session.get(server.make_url("/health"), headers={"X-Forwarded-For": client}) as r:
                    assert r.status == 200
    finally:
        await server.close()
    warnings = [r for r in caplog.records if "ROBIAN_TRUSTED_PROXIES" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "127.0.0.2" in warnings[0].getMessage()


async def test_forwarded_for_from_a_trusted_proxy_is_not_warned_about(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    assert await statuses(client, 2, "/health", **{"X-Forwarded-For": "203.0.113.1"}) == [200] * 2
    assert not [r for r in caplog.records if "ROBIAN_TRUSTED_PROXIES" in r.getMessage()]

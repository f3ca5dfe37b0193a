"""Open event streams are capped per client address (an IPv6 /64), in aiohttp and in nginx (issue #22,
item 6): 400 streams from one address used to be accepted, and ~42 addresses filled a process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.events.clients import SseStream

UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@contextlib.asynccontextmanager
async def streams() -> AsyncIterator[list[Any]]:
    opened: list[Any] = []
    try:
        yield opened
    finally:
        for stream in opened:
            if isinstance(stream, SseStream):
                stream.close()
            else:
                await stream.close()


async def test_streams_are_capped_per_address_and_per_ipv6_64(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(events_listeners_per_address=3)))

    async def sse(who: str) -> aiohttp.ClientResponse:
        return await client.get("/api/v1/events?channels=jobs", headers={"X-Forwarded-For": who})

    async with streams() as opened:
        for _ in range(2):
            response = await sse("203.0.113.1")
            assert response.status == 200
            opened.append(SseStream(response))
        opened.append(await client.ws_connect("/ws", headers={"X-Forwarded-For": "203.0.113.1"}))
        # the fourth from that address, SSE or WebSocket: 429 problem+json, told to retry
        refused = await sse("203.0.113.1")
        problem = await refused.json(content_type=None)
        assert refused.status == 429 and "at most 3 at once" in problem["detail"]
        upgrade = await client.get("/ws", headers={"X-Forwarded-For": "203.0.113.1", **UPGRADE})
        assert upgrade.status == 429
        # another address is not affected
        other = await sse("203.0.113.2")
        assert other.status == 200
        opened.append(SseStream(other))
        # one IPv6 subscriber (a /64) is one client, whatever its interface part
        for host in ("2001:db8:1:2::5", "2001:db8:1:2::6", "2001:db8:1:2:aaaa::7"):
            response = await sse(host)
            assert response.status == 200
            opened.append(SseStream(response))
        assert (await sse("2001:db8:1:2:ffff::1")).status == 429
        assert (await sse("2001:db8:1:3::1")).status == 200
        # a stream that ends gives its slot back
        opened.pop(0).close()
        await asyncio.sleep(0.2)
        response = await sse("203.0.113.1")
        assert response.status == 200
        opened.append(SseStream(response))

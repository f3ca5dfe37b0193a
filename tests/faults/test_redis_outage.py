"""Redis killed (SIGKILL) while a server process is under load, then restarted on the same port.

Meanwhile metadata keeps answering (no 5xx: the cache falls back to PostgreSQL), SSE listeners stay
connected, readiness says "degraded"; afterwards events published by another process through Redis
reach the same listeners again and readiness is back to "ok".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from robian_media.events.factory import open_event_bus
from robian_media.settings import Settings
from tests.conftest import ADMIN_TOKEN, RUN_ID
from tests.events.clients import SseStream, open_sse
from tests.factories import connect, create_debate
from tests.services import RedisServer, ServerProcess, server_env

LISTENERS = 100
READERS = 6


async def test_redis_killed_under_load_then_restarted(database_url: str, tmp_path: Path) -> None:
    redis = RedisServer().start()
    prefix = f"robian-test:{RUN_ID}:faults-{uuid.uuid4().hex[:6]}:"
    conn = await connect(database_url)
    try:
        debate_id = await create_debate(conn, title="Séance sous charge")
    finally:
        await conn.close()
    env = server_env(
        database_url=database_url,
        redis_url=redis.url,
        redis_prefix=prefix,
        data_dir=str(tmp_path / "data"),
        admin_token=ADMIN_TOKEN,
        workers="0",
        # on, so its Redis-down fallback runs too, but far above what the readers send
        rate_limit_per_minute="10000000",
    )
    server = ServerProcess(env, tmp_path / "server.log")
    await asyncio.to_thread(server.start)
    try:
        publisher_settings = Settings(
            _env_file=None, database_url=database_url, redis_url=redis.url, redis_prefix=prefix
        )
        async with open_event_bus(publisher_settings, listen=False) as publisher:
            await under_load(server, redis, publisher, str(debate_id))
    finally:
        code = await asyncio.to_thread(server.stop)
        redis.stop()
    assert code == 0, server.output()[-3000:]
    assert "unhandled error" not in server.output()


async def under_load(server: ServerProcess, redis: RedisServer, publisher: Any, debate_id: str) -> None:
    statuses: Counter[int] = Counter()
    paths = ["/api/v1/debates?limit=5", f"/api/v1/debates/{debate_id}", "/api/v1/speakers", "/api/debats"]
    connector = aiohttp.TCPConnector(limit=LISTENERS + READERS + 10)
    async with aiohttp.ClientSession(base_url=server.url, connector=connector) as http:
        listeners = [await open_sse(http, "/api/v1/events?channels=system") for _ in range(LISTENERS)]

        async def read_forever(index: int) -> None:
            while True:
                try:
                    async with http.get(paths[index % len(paths)]) as response:
                        await response.read()
                        statuses[response.status] += 1
                except aiohttp.ClientError:
                    statuses[599] += 1
                index += 1
                await asyncio.sleep(0.01)  # steady load, not a flood of a shared machine

        readers = [asyncio.create_task(read_forever(i)) for i in range(READERS)]
        try:
            await publish_until_all_receive(publisher, listeners, "before")

            redis.stop()  # SIGKILL
            await asyncio.sleep(4)
            ready = await (await http.get("/health/ready")).json()
            assert ready["status"] == "degraded" and ready["checks"]["redis"]["status"] == "down", ready

            redis.start()
            deadline = time.monotonic() + 20
            while (await (await http.get("/health/ready")).json())["status"] != "ok":
                assert time.monotonic() < deadline, "readiness did not see Redis back"
                await asyncio.sleep(0.2)
            await publish_until_all_receive(publisher, listeners, "after")
            await asyncio.sleep(1)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for listener in listeners:
            assert not listener.response.content.at_eof(), "a listener was disconnected"
            listener.close()
    assert sum(statuses.values()) > 100, statuses
    assert set(statuses) == {200}, statuses


async def publish_until_all_receive(publisher: Any, listeners: list[SseStream], step: str) -> None:
    """Publish from another process's bus until every listener got one of these events."""
    pending = set(range(len(listeners)))
    deadline = time.monotonic() + 20
    attempt = 0
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} listeners never got a {step!r} event"
        attempt += 1
        with contextlib.suppress(Exception):  # while Redis restarts a publish may go nowhere
            await publisher.publish("system", "fault.test", {"step": step, "attempt": attempt})
        received = await asyncio.gather(*(next_step(listeners[i], step) for i in pending))
        pending = {i for i, ok in zip(sorted(pending), received, strict=True) if not ok}


async def next_step(listener: SseStream, step: str) -> bool:
    """Drain what arrived within a short while; True if one of them was this step's event."""
    found = False
    with contextlib.suppress(TimeoutError):
        while True:
            message = await listener.next(timeout=0.5)
            if message.event == "fault.test" and message.json["data"]["step"] == step:
                found = True
    return found

"""Two API nodes sharing one Redis, as a deployment runs them: fan-out, slow clients, outages, shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web import keys
from tests.events.clients import SseStream, open_lazy_sse, open_lazy_ws, open_sse, read_ws_until_close
from tests.services import RedisServer


async def two_nodes(aiohttp_client: Any, settings: Settings) -> tuple[Any, Any]:
    return await aiohttp_client(create_app(settings)), await aiohttp_client(create_app(settings))


async def subscribed_ws(client: Any, channels: list[str]) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"op": "subscribe", "channels": channels})
    assert (await ws.receive_json(timeout=5))["op"] == "ack"
    return ws


async def test_an_event_published_on_one_node_reaches_listeners_on_the_other(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    node_a, node_b = await two_nodes(aiohttp_client, make_settings())
    sse = await open_sse(node_b.session, node_b.make_url("/api/v1/events?channels=live:L1"))
    ws = await subscribed_ws(node_b, ["live:L1"])
    await asyncio.sleep(0.05)
    speaker = {"id": "PA1", "name": "Mme X", "group": "G"}
    sent = await node_a.app[keys.EVENT_BUS].publish(
        "live:L1", "live.speaker", {"speaker": speaker, "at": 12.5}
    )
    assert (await sse.next()).json == sent.as_json()
    assert await ws.receive_json(timeout=5) == {"op": "event", **sent.as_json()}
    metrics = await (await node_b.get("/metrics")).text()
    assert 'robian_events_listeners{kind="sse"} 1.0' in metrics
    assert 'robian_events_listeners{kind="ws"} 1.0' in metrics
    assert 'robian_events_delivered_total{kind="sse"} 1.0' in metrics
    assert 'robian_events_published_total{channel="live",path="redis"}' not in metrics  # published on A
    sse.close()
    await ws.close()


async def test_a_slow_consumer_is_dropped_while_fast_ones_get_everything(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    node_a, node_b = await two_nodes(aiohttp_client, make_settings(events_listener_buffer_bytes=16384))
    fast_sse = await open_sse(node_b.session, node_b.make_url("/api/v1/events?channels=jobs"))
    fast_ws = await subscribed_ws(node_b, ["jobs"])
    port = node_b.server.port
    lazy_sse, lazy_sse_writer = await open_lazy_sse(port, "/api/v1/events?channels=jobs")
    lazy_ws, lazy_ws_writer = await open_lazy_ws(port, {"op": "subscribe", "channels": ["jobs"]})
    await asyncio.sleep(0.1)
    received_sse: list[int] = []
    received_ws: list[int] = []

    async def read_fast() -> None:
        while True:
            received_sse.append((await fast_sse.next()).json["data"]["n"])
            received_ws.append((await fast_ws.receive_json(timeout=10))["data"]["n"])

    reading = asyncio.create_task(read_fast())
    registry = node_b.app[keys.METRICS_REGISTRY]
    bus_a = node_a.app[keys.EVENT_BUS]
    pad = "x" * 2000
    published = 0

    def dropped(kind: str) -> float:
        value = registry.get_sample_value("robian_events_slow_consumer_disconnects_total", {"kind": kind})
        return value or 0.0

    while published < 5000 and not (dropped("sse") and dropped("ws")):
        await bus_a.publish("jobs", "t", {"n": published, "pad": pad})
        published += 1
    assert dropped("sse") == 1 and dropped("ws") == 1, f"nobody dropped after {published} events"
    await bus_a.publish("jobs", "t", {"n": published, "pad": ""})
    deadline = time.monotonic() + 30
    while len(received_ws) <= published and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    reading.cancel()
    assert received_sse == list(range(published + 1))
    assert received_ws == list(range(published + 1))

    # the lazy clients, reading at last, find out why they were cut off
    tail = await asyncio.wait_for(lazy_sse.read(), 10)
    farewell = tail[tail.rindex(b"event: error") :]
    assert b'"error":"slow_consumer"' in farewell and b"Last-Event-ID" in farewell
    closed = await asyncio.wait_for(read_ws_until_close(lazy_ws), 10)
    assert closed is not None and closed[0] == 4000 and "since=" in closed[1]
    metrics = await (await node_b.get("/metrics")).text()
    assert 'robian_events_listeners{kind="sse"} 1.0' in metrics
    assert 'robian_events_dropped_total{kind="sse"} 1.0' in metrics
    for writer in (lazy_sse_writer, lazy_ws_writer):
        writer.close()
    fast_sse.close()
    await fast_ws.close()


async def next_json(stream: SseStream) -> dict[str, Any]:
    return dict((await stream.next()).json["data"])


async def test_a_redis_outage_keeps_listeners_and_local_delivery_then_fan_out_resumes(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_server: RedisServer
) -> None:
    node_a, node_b = await two_nodes(aiohttp_client, make_settings(redis_url=redis_server.url))
    on_a = await open_sse(node_a.session, node_a.make_url("/api/v1/events?channels=jobs"))
    on_b = await open_sse(node_b.session, node_b.make_url("/api/v1/events?channels=jobs"))
    ws_b = await subscribed_ws(node_b, ["jobs"])
    await asyncio.sleep(0.05)
    bus_a, bus_b = node_a.app[keys.EVENT_BUS], node_b.app[keys.EVENT_BUS]
    await bus_a.publish("jobs", "t", {"step": "before"})
    assert [await next_json(on_a), await next_json(on_b)] == [{"step": "before"}] * 2
    assert (await ws_b.receive_json(timeout=5))["data"] == {"step": "before"}

    redis_server.stop()
    during = await bus_b.publish("jobs", "t", {"step": "during"})  # does not raise
    assert "." in during.id
    assert await next_json(on_b) == {"step": "during"}  # this node's listeners still get it
    assert (await ws_b.receive_json(timeout=5))["data"] == {"step": "during"}

    redis_server.start()
    deadline = time.monotonic() + 15
    attempt = 0
    while True:  # until node A publishes through Redis again and B's reader is back
        attempt += 1
        await bus_a.publish("jobs", "t", {"step": "after", "attempt": attempt})
        try:
            seen = await asyncio.wait_for(next_json(on_b), 0.5)
            break
        except TimeoutError:
            assert time.monotonic() < deadline, "cross-node delivery did not resume"
    assert seen["step"] == "after"
    assert (await ws_b.receive_json(timeout=5))["data"] == seen
    # node A's own listener never lost its connection and got every event A published
    first_after = await next_json(on_a)
    assert first_after == {"step": "after", "attempt": 1}  # B's outage-time event never reached A
    on_a.close()
    on_b.close()
    await ws_b.close()


async def test_shutdown_with_100_open_streams_is_prompt(make_settings: Callable[..., Settings]) -> None:
    server = TestServer(create_app(make_settings()))
    await server.start_server()
    session = aiohttp.ClientSession()
    try:
        sse = [await open_sse(session, server.make_url("/api/v1/events?channels=jobs")) for _ in range(50)]
        sockets = []
        for _ in range(50):
            ws = await session.ws_connect(server.make_url("/ws"))
            await ws.send_json({"op": "subscribe", "channels": ["jobs"]})
            await ws.receive_json(timeout=5)
            sockets.append(ws)
        assert len(server.app[keys.EVENT_BUS].hub) == 100
        started = time.monotonic()
        await server.close()
        elapsed = time.monotonic() - started
        assert elapsed < 2.0, f"shutdown took {elapsed:.2f} s"
        for stream in sse:
            assert await stream.until_closed(timeout=2) == []
        for ws in sockets:
            msg = await ws.receive(timeout=2)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftovers, leftovers
    finally:
        await session.close()


def test_event_json_shape_is_the_contract() -> None:
    from robian_media.events.event import Event, Frames

    event = Event(
        id="1-0", channel="jobs", type="job.failed", ts="2026-01-01T00:00:00.000Z", data={"e": "é\n"}
    )
    frames = Frames(event)
    assert json.loads(frames.json) == {
        "id": "1-0",
        "channel": "jobs",
        "type": "job.failed",
        "ts": "2026-01-01T00:00:00.000Z",
        "data": {"e": "é\n"},
    }
    assert frames.sse == f"id: 1-0\r\nevent: job.failed\r\ndata: {frames.json}\r\n\r\n".encode()

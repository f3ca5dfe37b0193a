"""GET /ws as an app's WebSocket client uses it: the ops, their errors, resuming, and when it is closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web import keys


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return dict(json.loads(msg.data))


async def test_subscribe_ack_events_unsubscribe_ping(client: Any) -> None:
    bus = client.app[keys.EVENT_BUS]
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"op": "subscribe", "channels": ["jobs", "debate:D1"]})
        assert await receive_json(ws) == {"op": "ack", "channels": ["debate:D1", "jobs"]}
        sent = await bus.publish("debate:D1", "debate.published", {"debate_id": "D1"})
        await bus.publish("debates", "debate.published", {"debate_id": "D1"})  # not followed
        assert await receive_json(ws) == {"op": "event", **sent.as_json()}

        await ws.send_json({"op": "unsubscribe", "channels": ["debate:D1"]})
        assert await receive_json(ws) == {"op": "ack", "channels": ["jobs"]}
        await bus.publish("debate:D1", "t", {})
        await ws.send_json({"op": "ping"})
        assert await receive_json(ws) == {"op": "pong"}  # and not the unfollowed event


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{not json", "invalid_json"),
        ('["subscribe"]', "invalid_message"),
        ('{"op": "shout"}', "invalid_message"),
        ('{"op": "subscribe", "channels": "jobs"}', "invalid_message"),
        ('{"op": "subscribe", "channels": ["everything"]}', "invalid_channels"),
        ('{"op": "subscribe", "channels": []}', "invalid_channels"),
        ('{"op": "subscribe", "channels": ["jobs"], "since": "yesterday"}', "invalid_since"),
        (json.dumps({"op": "ping", "pad": "x" * 5000}), "message_too_large"),
        ("[" * 3000, "invalid_json"),  # was a RecursionError: close 1002 and a traceback each time
        ('{"op": "ping", "x": ' + "[" * 1000 + "]" * 1000 + "}", "invalid_json"),
    ],
)
async def test_bad_messages_get_an_error_and_the_connection_stays(
    client: Any, message: str, code: str
) -> None:
    async with client.ws_connect("/ws") as ws:
        await ws.send_str(message)
        error = await receive_json(ws)
        assert error["op"] == "error" and error["code"] == code and error["error"]
        await ws.send_json({"op": "ping"})
        assert await receive_json(ws) == {"op": "pong"}


async def test_binary_and_too_many_channels_are_errors(client: Any) -> None:
    async with client.ws_connect("/ws") as ws:
        await ws.send_bytes(b"\x00")
        assert (await receive_json(ws))["code"] == "binary_not_supported"
        await ws.send_json({"op": "subscribe", "channels": [f"job:{n}" for n in range(30)]})
        assert len((await receive_json(ws))["channels"]) == 30
        await ws.send_json({"op": "subscribe", "channels": [f"live:{n}" for n in range(3)]})
        error = await receive_json(ws)
        assert error["code"] == "too_many_channels" and "32" in error["error"]


async def test_subscribe_since_replays_then_continues_live(client: Any) -> None:
    bus = client.app[keys.EVENT_BUS]
    first = await bus.publish("jobs", "t", {"n": 0})
    missed = [await bus.publish("jobs", "t", {"n": n}) for n in range(1, 4)]
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"op": "subscribe", "channels": ["jobs"], "since": first.id})
        assert await receive_json(ws) == {"op": "ack", "channels": ["jobs"], "replayed": 3, "complete": True}
        assert [(await receive_json(ws))["id"] for _ in missed] == [e.id for e in missed]
        live = await bus.publish("jobs", "t", {"n": 4})
        assert (await receive_json(ws))["id"] == live.id


async def test_aiohttp_closes_a_huge_message_with_1009(client: Any) -> None:
    async with client.ws_connect("/ws") as ws:
        await ws.send_str("x" * (4096 * 16 + 1))
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1009


async def test_a_flood_of_bad_messages_is_closed_as_abuse(client: Any) -> None:
    async with client.ws_connect("/ws") as ws:
        for _ in range(12):
            await ws.send_str("nope")
        codes = []
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            codes.append(json.loads(msg.data)["code"])
        assert codes == ["invalid_json"] * 11
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008


async def test_a_connection_following_nothing_is_closed_when_idle(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(events_ws_idle_seconds=0.3)))
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"op": "ping"})
        assert await receive_json(ws) == {"op": "pong"}
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4001
    async with client.ws_connect("/ws") as ws:  # following a channel, it stays
        await ws.send_json({"op": "subscribe", "channels": ["system"]})
        await receive_json(ws)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.8)


async def test_a_plain_get_is_told_to_upgrade(client: Any) -> None:
    resp = await client.get("/ws")
    assert resp.status == 426 and resp.headers["Upgrade"] == "websocket"
    assert resp.content_type == "application/problem+json"

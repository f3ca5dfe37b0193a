"""An owner's private channel through the real SSE and WebSocket endpoints: only its devices hear it."""

from __future__ import annotations

from typing import Any

from robian_media.web import keys
from tests.events.clients import SseStream
from tests.listeners.conftest import register


async def test_sse_private_channel_is_refused_without_or_with_the_wrong_token(client: Any) -> None:
    mine, theirs = await register(client), await register(client)
    url = f"/api/v1/events?channels=owner:{mine.owner_id}"
    anonymous = await client.get(url)
    assert anonymous.status == 401 and anonymous.content_type == "application/problem+json"
    stranger = await client.get(url, headers=theirs.headers)
    assert stranger.status == 403 and stranger.content_type == "application/problem+json"

    response = await client.get(url + f"&access_token={mine.token}", headers={"Accept": "text/event-stream"})
    assert response.status == 200 and response.content_type == "text/event-stream"
    stream = SseStream(response)
    try:
        await client.app[keys.EVENT_BUS].publish(f"owner:{mine.owner_id}", "progress", {"position": 12.5})
        message = await stream.next()
        assert message.event == "progress" and message.json["data"] == {"position": 12.5}
    finally:
        stream.close()


async def test_ws_subscription_to_another_owners_channel_is_an_error_message(client: Any) -> None:
    mine, theirs = await register(client), await register(client)
    async with client.ws_connect(f"/ws?access_token={theirs.token}") as ws:
        await ws.send_json({"op": "subscribe", "channels": [f"owner:{mine.owner_id}"]})
        refused = await ws.receive_json(timeout=5)
        assert refused["op"] == "error" and "owner" in refused["error"]
        await ws.send_json({"op": "subscribe", "channels": [f"owner:{theirs.owner_id}"]})
        ack = await ws.receive_json(timeout=5)
        assert ack == {"op": "ack", "channels": [f"owner:{theirs.owner_id}"]}

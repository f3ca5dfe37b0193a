"""A revoked device's open event streams end on every node (issue #22, item 4): a lost phone's SSE and
WebSocket used to keep receiving its owner's events after ``DELETE /api/v1/devices/{id}``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web import keys
from tests.events.clients import open_sse
from tests.listeners.conftest import register


async def test_revoking_a_device_ends_its_streams_on_every_node(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    node_a, node_b = await aiohttp_client(create_app(settings)), await aiohttp_client(create_app(settings))
    phone, tablet = await register(node_a), await register(node_a)
    code = (await (await node_a.post("/api/v1/devices/pair", headers=phone.headers)).json())["code"]
    redeem = await node_a.post("/api/v1/devices/pair/redeem", json={"code": code}, headers=tablet.headers)
    assert redeem.status == 200, await redeem.text()
    owner = f"owner:{phone.owner_id}"

    # the phone listens on node B (its owner's channel, by ?access_token= and by header) and on node A
    phone_sse = await open_sse(
        node_b.session, node_b.make_url(f"/api/v1/events?channels={owner},debates&access_token={phone.token}")
    )
    phone_public = await open_sse(
        node_a.session, node_a.make_url(f"/api/v1/events?channels=debates&access_token={phone.token}")
    )
    phone_ws = await node_b.ws_connect("/ws", headers=phone.headers)
    await phone_ws.send_json({"op": "subscribe", "channels": [owner]})
    assert (await phone_ws.receive_json(timeout=5))["op"] == "ack"
    tablet_sse = await open_sse(
        node_b.session, node_b.make_url(f"/api/v1/events?channels={owner}&access_token={tablet.token}")
    )
    await asyncio.sleep(0.1)
    # read as a client does, as frames arrive
    ws_closing = asyncio.create_task(phone_ws.receive(timeout=5))
    phone_seen = asyncio.create_task(phone_sse.until_closed())
    public_seen = asyncio.create_task(phone_public.until_closed())

    # the tablet revokes the lost phone, through node A
    assert (await node_a.delete(f"/api/v1/devices/{phone.device_id}", headers=tablet.headers)).status == 204

    async with asyncio.timeout(5):
        seen = await phone_seen
        assert [m.event for m in seen] == ["error"] and seen[0].json["error"] == "revoked"
        assert [m.event for m in await public_seen] == ["error"]
        closing = await ws_closing
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4003
    # the owner's other device stays, and sees the phone go
    revoked = await tablet_sse.next()
    assert revoked.event == "device.revoked" and revoked.json["data"] == {"device_id": phone.device_id}
    # later owner events reach the tablet only; the phone cannot come back
    await node_a.app[keys.EVENT_BUS].publish(owner, "favorite.added", {"debate_id": "d1"})
    assert (await tablet_sse.next()).event == "favorite.added"
    again = await node_b.get(f"/api/v1/events?channels={owner}&access_token={phone.token}")
    assert again.status == 401
    tablet_sse.close()
    await phone_ws.close()

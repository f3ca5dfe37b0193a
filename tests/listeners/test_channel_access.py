"""Who may subscribe to an owner's private channel: what the SSE/WebSocket endpoints call."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web.device_auth import authorize_channels
from tests.listeners.conftest import assert_problem, register, reply


async def channels(request: web.Request) -> web.Response:
    listener = await authorize_channels(request, request.query["channels"].split(","))
    return web.json_response({"owner_id": str(listener.owner_id) if listener else None})


async def make_client(aiohttp_client: Any, settings: Settings) -> Any:
    app = create_app(settings)
    app.router.add_get("/test/channels", channels)
    return await aiohttp_client(app)


async def test_private_channel_needs_its_owners_token(aiohttp_client: Any, settings: Settings) -> None:
    client = await make_client(aiohttp_client, settings)
    mine, theirs = await register(client), await register(client)
    private = f"owner:{mine.owner_id}"

    by_header = await reply(
        await client.get("/test/channels", params={"channels": f"debates,{private}"}, headers=mine.headers)
    )
    assert by_header.status == 200 and by_header.body == {"owner_id": mine.owner_id}
    # EventSource and browser WebSockets cannot set headers: the token may come in the query
    by_query = await reply(
        await client.get("/test/channels", params={"channels": private, "access_token": mine.token})
    )
    assert by_query.status == 200

    assert_problem(await reply(await client.get("/test/channels", params={"channels": private})), 401)
    assert_problem(
        await reply(await client.get("/test/channels", params={"channels": private}, headers=theirs.headers)),
        403,
    )
    public = await reply(await client.get("/test/channels", params={"channels": "debates,live:x"}))
    assert public.status == 200 and public.body == {"owner_id": None}

    await mine.ok("DELETE", "/api/v1/devices/me", status=204)
    assert_problem(
        await reply(
            await client.get("/test/channels", params={"channels": private, "access_token": mine.token})
        ),
        401,
    )


async def test_swagger_documents_the_device_token(client: Any) -> None:
    spec = await (await client.get("/api/docs/swagger.json")).json()
    assert spec["securityDefinitions"]["deviceToken"]["in"] == "header"
    assert spec["paths"]["/api/v1/favorites"]["get"]["security"] == [{"deviceToken": []}]
    assert "401" in spec["paths"]["/api/v1/progress/{debate_id}"]["put"]["responses"]
    assert "security" not in spec["paths"]["/api/v1/devices"]["post"]
    assert "security" not in spec["paths"]["/api/v1/stats/global"]["get"]

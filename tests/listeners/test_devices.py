"""Anonymous devices: registration, bearer auth, revocation, and the private channel's access check."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import asyncpg

from robian_media.app import create_app
from robian_media.web.device_auth import can_subscribe, owner_channel
from robian_media.web.listener_queries import Listener
from tests.listeners.conftest import Device, assert_problem, register, reply


async def test_registration_gives_a_token_that_is_stored_only_as_its_hash(
    new_device: Any, db: asyncpg.Connection
) -> None:
    device: Device = await new_device()
    assert len(device.token) > 40 and device.token.startswith("rmd_")
    stored = await db.fetchrow("SELECT * FROM devices WHERE id = $1", UUID(device.device_id))
    assert stored["token_hash"] == hashlib.sha256(device.token.encode()).digest()
    assert device.token.encode() not in b"".join(str(v).encode() for v in stored.values())

    got = await device.call("GET", "/api/v1/devices/me")
    assert got.headers["Cache-Control"] == "private, no-store"  # never kept by a shared cache
    me = got.body
    assert me["device_id"] == device.device_id
    assert me["channel"] == f"owner:{device.owner_id}"
    assert [d["id"] for d in me["devices"]] == [device.device_id]


async def test_two_registrations_are_two_separate_owners(new_device: Any) -> None:
    a, b = await new_device(), await new_device()
    assert a.device_id != b.device_id and a.owner_id != b.owner_id and a.token != b.token


async def test_missing_malformed_or_unknown_token_is_a_401_problem(client: Any) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer rmd_not-a-real-token"}):
        got = await reply(await client.get("/api/v1/favorites", headers=headers))
        assert_problem(got, 401)
        assert "Bearer" in got.headers["WWW-Authenticate"]


async def test_revoked_token_is_refused(new_device: Any) -> None:
    device: Device = await new_device()
    await device.ok("GET", "/api/v1/favorites")
    assert (await device.call("DELETE", "/api/v1/devices/me")).status == 204
    assert_problem(await device.call("GET", "/api/v1/favorites"), 401)
    assert_problem(await device.call("DELETE", "/api/v1/devices/me"), 401)


async def test_a_device_revokes_a_lost_sibling_but_not_a_strangers_device(new_device: Any) -> None:
    phone, tablet, stranger = await new_device(), await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code})

    assert_problem(await tablet.call("DELETE", f"/api/v1/devices/{stranger.device_id}"), 404)
    assert (await stranger.call("GET", "/api/v1/devices/me")).status == 200
    assert_problem(await tablet.call("DELETE", "/api/v1/devices/not-an-id"), 404)

    assert (await tablet.call("DELETE", f"/api/v1/devices/{phone.device_id}")).status == 204
    assert_problem(await phone.call("GET", "/api/v1/devices/me"), 401)
    me = await tablet.ok("GET", "/api/v1/devices/me")
    assert [d["id"] for d in me["devices"]] == [tablet.device_id]


async def test_registrations_per_address_are_limited(aiohttp_client: Any, make_settings: Any) -> None:
    client = await aiohttp_client(create_app(make_settings(device_registrations_per_address=2)))
    await register(client)
    await register(client)
    got = await reply(await client.post("/api/v1/devices"))
    assert_problem(got, 429)
    assert int(got.headers["Retry-After"]) > 0


def test_only_the_owner_may_hear_the_owner_channel() -> None:
    owner = UUID(int=1)
    mine = Listener(device_id=UUID(int=2), owner_id=owner)
    theirs = Listener(device_id=UUID(int=3), owner_id=UUID(int=4))
    assert can_subscribe(mine, owner_channel(owner))
    assert not can_subscribe(theirs, owner_channel(owner))
    assert not can_subscribe(None, owner_channel(owner))
    assert can_subscribe(None, "debates") and can_subscribe(theirs, "live:abc")

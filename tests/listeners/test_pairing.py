"""Pairing: a short code from one device lets another join its account, once, before it expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg

from robian_media.app import create_app
from robian_media.web import keys
from robian_media.web.device_auth import PAIRING_ALPHABET, pairing_code_hash
from tests.listeners.conftest import Device, assert_problem, register
from tests.services import free_port


async def pair(a: Device, b: Device) -> dict[str, Any]:
    code = (await a.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    return dict(await b.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code}))


async def test_code_is_short_unambiguous_and_stored_hashed(new_device: Any, db: asyncpg.Connection) -> None:
    phone: Device = await new_device()
    issued = await phone.ok("POST", "/api/v1/devices/pair", status=201)
    code = issued["code"]
    assert len(code) == 8 and set(code) <= set(PAIRING_ALPHABET)
    assert datetime.fromisoformat(issued["expires_at"]) > datetime.now(UTC)
    stored = await db.fetchval(
        "SELECT count(*) FROM pairing_codes WHERE code_hash = $1", pairing_code_hash(code)
    )
    assert stored == 1


async def test_paired_devices_share_favorites_and_progress(new_device: Any, make_debate: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    liked_on_phone, liked_on_tablet, heard = await make_debate(), await make_debate(), await make_debate()
    await phone.ok("PUT", f"/api/v1/favorites/{liked_on_phone}")
    await tablet.ok("PUT", f"/api/v1/favorites/{liked_on_tablet}")
    await tablet.ok(
        "PUT", f"/api/v1/progress/{heard}", json={"position": 120, "updated_at": "2025-05-01T10:00:00Z"}
    )

    account = await pair(phone, tablet)

    assert account["owner_id"] == phone.owner_id
    assert {d["id"] for d in account["devices"]} == {phone.device_id, tablet.device_id}
    for device in (phone, tablet):
        favorites = await device.ok("GET", "/api/v1/favorites")
        assert {f["debate"]["id"] for f in favorites["items"]} == {str(liked_on_phone), str(liked_on_tablet)}
        assert (await device.ok("GET", f"/api/v1/progress/{heard}"))["position"] == 120

    # from now on a write on one is seen by the other
    await phone.ok(
        "PUT", f"/api/v1/progress/{heard}", json={"position": 300, "updated_at": "2025-05-01T11:00:00Z"}
    )
    assert (await tablet.ok("GET", f"/api/v1/progress/{heard}"))["position"] == 300


async def test_merge_keeps_the_newest_position_of_either_side(new_device: Any, make_debate: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    debate = await make_debate()
    await phone.ok(
        "PUT", f"/api/v1/progress/{debate}", json={"position": 50, "updated_at": "2025-05-01T10:00:00Z"}
    )
    await tablet.ok(
        "PUT", f"/api/v1/progress/{debate}", json={"position": 900, "updated_at": "2025-05-02T10:00:00Z"}
    )
    await pair(phone, tablet)
    assert (await phone.ok("GET", f"/api/v1/progress/{debate}"))["position"] == 900


async def test_a_code_works_once(new_device: Any) -> None:
    phone, tablet, intruder = await new_device(), await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code})
    got = await intruder.call("POST", "/api/v1/devices/pair/redeem", json={"code": code})
    assert_problem(got, 422)
    assert got.body["errors"][0]["location"] == "body.code"
    assert (await intruder.ok("GET", "/api/v1/devices/me"))["owner_id"] == intruder.owner_id


async def test_an_expired_code_is_refused(new_device: Any, db: asyncpg.Connection) -> None:
    phone, tablet = await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    # the clock moves past the code's lifetime
    await db.execute(
        "UPDATE pairing_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1",
        pairing_code_hash(code),
    )
    assert_problem(await tablet.call("POST", "/api/v1/devices/pair/redeem", json={"code": code}), 422)
    assert (await tablet.ok("GET", "/api/v1/devices/me"))["owner_id"] == tablet.owner_id


async def test_wrong_and_malformed_codes_are_refused(new_device: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    for attempt in (wrong, "O0I1L", ""):
        assert_problem(await tablet.call("POST", "/api/v1/devices/pair/redeem", json={"code": attempt}), 422)
    assert_problem(await tablet.call("POST", "/api/v1/devices/pair/redeem", json={}), 422)
    # typed by a person: lower case with a dash still works
    typed = f"{code[:4].lower()}-{code[4:]}"
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": typed})


async def test_a_new_code_replaces_the_previous_one(new_device: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    first = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    second = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    assert_problem(await tablet.call("POST", "/api/v1/devices/pair/redeem", json={"code": first}), 422)
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": second})


async def test_redeeming_your_own_accounts_code_is_a_conflict_and_keeps_the_code(new_device: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    assert_problem(await phone.call("POST", "/api/v1/devices/pair/redeem", json={"code": code}), 409)
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code})


async def test_attempts_are_rate_limited(aiohttp_client: Any, make_settings: Any) -> None:
    client = await aiohttp_client(create_app(make_settings(pairing_attempts_per_device=3)))
    phone, guesser = await register(client), await register(client)
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    for _ in range(3):
        assert_problem(
            await guesser.call("POST", "/api/v1/devices/pair/redeem", json={"code": "22222222"}), 422
        )
    # even the right code is refused once the attempts are spent
    limited = await guesser.call("POST", "/api/v1/devices/pair/redeem", json={"code": code})
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0


async def test_devices_of_the_absorbed_account_are_told_where_their_account_went(new_device: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    bus = tablet.client.app[keys.EVENT_BUS]
    old_channel = bus.subscribe([f"owner:{tablet.owner_id}"])
    await pair(phone, tablet)
    event = await asyncio.wait_for(old_channel.get(), 10)
    assert event.type == "owner.merged"
    assert event.data == {"owner_id": phone.owner_id, "channel": f"owner:{phone.owner_id}"}
    me = await tablet.ok("GET", "/api/v1/devices/me")
    assert me["channel"] == f"owner:{phone.owner_id}"


async def test_two_devices_racing_for_one_code_one_wins(new_device: Any) -> None:
    phone, tablet, laptop = await new_device(), await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    results = await asyncio.gather(
        *(d.call("POST", "/api/v1/devices/pair/redeem", json={"code": code}) for d in (tablet, laptop))
    )
    assert sorted(r.status for r in results) == [200, 422]
    owners = {(await d.ok("GET", "/api/v1/devices/me"))["owner_id"] for d in (phone, tablet, laptop)}
    assert len(owners) == 2  # the loser kept its own account


async def test_limits_still_apply_per_node_when_redis_is_down(
    aiohttp_client: Any, make_settings: Any
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(make_settings(redis_url=dead_redis, pairing_attempts_per_device=2))
    client = await aiohttp_client(app)
    phone, guesser = await register(client), await register(client)
    await phone.ok("POST", "/api/v1/devices/pair", status=201)
    for _ in range(2):
        assert_problem(
            await guesser.call("POST", "/api/v1/devices/pair/redeem", json={"code": "22222222"}), 422
        )
    assert_problem(await guesser.call("POST", "/api/v1/devices/pair/redeem", json={"code": "22222222"}), 429)


async def test_two_devices_redeeming_each_others_codes_at_once(new_device: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    phone_code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    tablet_code = (await tablet.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    results = await asyncio.gather(
        phone.call("POST", "/api/v1/devices/pair/redeem", json={"code": tablet_code}),
        tablet.call("POST", "/api/v1/devices/pair/redeem", json={"code": phone_code}),
    )
    won, lost = sorted(r.status for r in results)
    # the loser finds its account merged away (409) or the other code gone with it (422): never a 500
    assert won == 200 and lost in (409, 422)
    owners = {(await d.ok("GET", "/api/v1/devices/me"))["owner_id"] for d in (phone, tablet)}
    assert len(owners) == 1  # paired once, whichever won

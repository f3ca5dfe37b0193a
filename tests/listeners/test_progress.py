"""Playback progress: last writer wins by updated_at, never backwards on stale writes, replays change
nothing, offline batches, concurrent devices, the continue-listening list, and live updates."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from robian_media.web import keys
from tests.events.clients import quiet
from tests.listeners.conftest import Device, assert_problem
from tests.listeners.factories import assert_debate_shape

T0 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def write(position: float, minutes: float, **extra: Any) -> dict[str, Any]:
    return {"position": position, "updated_at": at(minutes), **extra}


async def test_newer_write_wins_and_stale_write_never_moves_the_position(
    new_device: Any, make_debate: Any
) -> None:
    device: Device = await new_device()
    debate = await make_debate()
    path = f"/api/v1/progress/{debate}"

    first = await device.ok("PUT", path, json=write(600, 10, duration=3600))
    assert first["status"] == "applied" and first["progress"]["position"] == 600

    stale = await device.ok("PUT", path, json=write(60, 5))
    assert stale["status"] == "stale"
    assert stale["progress"]["position"] == 600 and stale["progress"]["duration"] == 3600

    # a newer write wins even when it seeks back: the listener chose to
    back = await device.ok("PUT", path, json=write(300, 20))
    assert back["status"] == "applied" and back["progress"]["position"] == 300
    assert back["progress"]["duration"] == 3600  # kept when a write omits it
    assert (await device.ok("GET", path))["position"] == 300


async def test_a_replay_is_idempotent(new_device: Any, make_debate: Any) -> None:
    device: Device = await new_device()
    debate = await make_debate()
    path = f"/api/v1/progress/{debate}"
    await device.ok("PUT", path, json=write(100, 0))
    original = await device.ok("PUT", path, json=write(160, 1))
    replay = await device.ok("PUT", path, json=write(160, 1))
    assert replay == original
    assert (await device.ok("GET", path))["position"] == 160


async def test_offline_batch_with_stale_and_duplicate_writes(new_device: Any, make_debate: Any) -> None:
    phone: Device = await new_device()
    a, b, gone = await make_debate(), await make_debate(), "00000000-0000-4000-8000-000000000000"
    # the server already holds a newer position for b
    await phone.ok("PUT", f"/api/v1/progress/{b}", json=write(2000, 60))

    items = [
        {"debate_id": str(a), **write(300, 3)},
        {"debate_id": str(a), **write(100, 1)},
        {"debate_id": str(b), **write(500, 30)},  # stale against the server
        {"debate_id": str(a), **write(300, 3)},  # duplicate
        {"debate_id": gone, **write(10, 1)},
        {"debate_id": str(a), **write(200, 2)},
    ]
    result = await phone.ok("POST", "/api/v1/progress/batch", json={"items": items})
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["applied", "stale", "stale", "applied", "not_found", "stale"]
    assert (await phone.ok("GET", f"/api/v1/progress/{a}"))["position"] == 300
    assert (await phone.ok("GET", f"/api/v1/progress/{b}"))["position"] == 2000

    # syncing the same batch again (the answer was lost on the metro) changes nothing
    again = await phone.ok("POST", "/api/v1/progress/batch", json={"items": items})
    assert again == result


async def test_concurrent_writes_from_two_devices_newest_wins(new_device: Any, make_debate: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code})
    debate = await make_debate()
    path = f"/api/v1/progress/{debate}"
    rng = random.Random(9)
    for round_ in range(3):
        # each device sends its writes at once, in shuffled order: arrival order is arbitrary
        writes = [
            (dev, write(position=minute * 10 + round_, minutes=round_ * 100 + minute))
            for minute, dev in enumerate([phone, tablet] * 8)
        ]
        rng.shuffle(writes)
        await asyncio.gather(*(dev.ok("PUT", path, json=body) for dev, body in writes))
        newest = max(writes, key=lambda w: w[1]["updated_at"])
        for device in (phone, tablet):
            stored = await device.ok("GET", path)
            assert stored["position"] == newest[1]["position"]
            assert stored["device_id"] == newest[0].device_id


async def test_same_timestamp_goes_to_the_furthest_position(new_device: Any, make_debate: Any) -> None:
    phone, tablet = await new_device(), await new_device()
    code = (await phone.ok("POST", "/api/v1/devices/pair", status=201))["code"]
    await tablet.ok("POST", "/api/v1/devices/pair/redeem", json={"code": code})
    debate = await make_debate()
    path = f"/api/v1/progress/{debate}"
    await asyncio.gather(phone.ok("PUT", path, json=write(70, 5)), tablet.ok("PUT", path, json=write(90, 5)))
    assert (await phone.ok("GET", path))["position"] == 90


async def test_bad_input_is_a_422(new_device: Any, make_debate: Any) -> None:
    device: Device = await new_device()
    debate = await make_debate()
    path = f"/api/v1/progress/{debate}"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cases = [
        ({"position": 10, "updated_at": future}, "body.updated_at"),
        ({"position": 10, "updated_at": "2025-05-01T10:00:00"}, "body.updated_at"),  # no time zone
        ({"position": -1, "updated_at": at(0)}, "body.position"),
        ({"position": 10}, "body.updated_at"),
        ({"position": 100, "duration": 50, "updated_at": at(0)}, "body"),
        ({"position": "far", "updated_at": at(0)}, "body.position"),
    ]
    for body, location in cases:
        got = await device.call("PUT", path, json=body)
        assert_problem(got, 422)
        assert location in {e["location"] for e in got.body["errors"]}, got.body
    assert_problem(await device.call("PUT", "/api/v1/progress/not-a-uuid", json=write(1, 0)), 404)
    unknown = "/api/v1/progress/00000000-0000-4000-8000-000000000000"
    assert_problem(await device.call("PUT", unknown, json=write(1, 0)), 404)
    assert_problem(await device.call("GET", f"/api/v1/progress/{debate}"), 404)  # nothing was stored


async def test_batch_bounds_and_future_items_refuse_the_whole_batch(
    new_device: Any, make_debate: Any
) -> None:
    device: Device = await new_device()
    debate = await make_debate()
    good = {"debate_id": str(debate), **write(5, 0)}
    future = {
        "debate_id": str(debate),
        "position": 9,
        "updated_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    got = await device.call("POST", "/api/v1/progress/batch", json={"items": [good, future]})
    assert_problem(got, 422)
    assert got.body["errors"][0]["location"] == "body.items.1.updated_at"
    assert_problem(await device.call("POST", "/api/v1/progress/batch", json={"items": []}), 422)
    assert_problem(await device.call("POST", "/api/v1/progress/batch", json={"items": [good] * 501}), 422)
    assert_problem(await device.call("GET", f"/api/v1/progress/{debate}"), 404)  # nothing half-written


async def test_continue_listening_most_recent_first_with_debate_info(
    new_device: Any, make_debate: Any
) -> None:
    device: Device = await new_device()
    older, newer, finished = await make_debate(), await make_debate(), await make_debate(duration=1000)
    await device.ok("PUT", f"/api/v1/progress/{older}", json=write(60, 1))
    await device.ok("PUT", f"/api/v1/progress/{finished}", json=write(990, 2))
    await device.ok("PUT", f"/api/v1/progress/{newer}", json=write(30, 3))

    page = await device.ok("GET", "/api/v1/progress")
    assert [i["debate"]["id"] for i in page["items"]] == [str(newer), str(older)]
    assert_debate_shape(page["items"][0]["debate"], newer)
    assert page["items"][0]["progress"]["position"] == 30 and page["items"][0]["completed"] is False

    everything = await device.ok(
        "GET", "/api/v1/progress", params={"include_completed": "true", "limit": "2"}
    )
    assert [i["debate"]["id"] for i in everything["items"]] == [str(newer), str(finished)]
    assert everything["items"][1]["completed"] is True
    rest = await device.ok(
        "GET", "/api/v1/progress", params={"include_completed": "true", "cursor": everything["next_cursor"]}
    )
    assert [i["debate"]["id"] for i in rest["items"]] == [str(older)] and rest["next_cursor"] is None


async def test_progress_is_private_to_its_owner(new_device: Any, make_debate: Any) -> None:
    mine, theirs = await new_device(), await new_device()
    debate = await make_debate()
    await mine.ok("PUT", f"/api/v1/progress/{debate}", json=write(500, 10))
    assert_problem(await theirs.call("GET", f"/api/v1/progress/{debate}"), 404)
    assert (await theirs.ok("GET", "/api/v1/progress"))["items"] == []
    # their own write does not touch mine
    await theirs.ok("PUT", f"/api/v1/progress/{debate}", json=write(5, 20))
    assert (await mine.ok("GET", f"/api/v1/progress/{debate}"))["position"] == 500


async def test_a_stored_change_is_announced_on_the_owner_channel_only(
    new_device: Any, make_debate: Any
) -> None:
    phone, stranger = await new_device(), await new_device()
    debate = await make_debate()
    bus = phone.client.app[keys.EVENT_BUS]
    mine = bus.subscribe([f"owner:{phone.owner_id}"])
    theirs = bus.subscribe([f"owner:{stranger.owner_id}"])

    await phone.ok("PUT", f"/api/v1/progress/{debate}", json=write(42.5, 1, duration=3600))
    await phone.ok("PUT", f"/api/v1/progress/{debate}", json=write(10, 0))  # stale: no event
    await phone.ok(
        "PUT", f"/api/v1/progress/{debate}", json=write(42.5, 1, duration=3600)
    )  # replay: no event

    event = await asyncio.wait_for(mine.get(), 10)
    assert event.channel == f"owner:{phone.owner_id}" and event.type == "progress"
    assert event.data == {
        "debate_id": str(debate),
        "position": 42.5,
        "duration": 3600.0,
        "updated_at": "2025-05-01T10:01:00Z",
        "device_id": phone.device_id,
    }
    assert await quiet(mine) == [] and await quiet(theirs) == []


async def test_a_synced_batch_is_one_event(new_device: Any, make_debate: Any) -> None:
    """A batch of 500 writes used to publish 500 events to each device of the owner (issue #22, item 10)."""
    phone = await new_device()
    debates = [await make_debate() for _ in range(30)]
    mine = phone.client.app[keys.EVENT_BUS].subscribe([f"owner:{phone.owner_id}"])
    items = [{"debate_id": str(d), **write(60.0 + n, 1)} for n, d in enumerate(debates)]
    items.append({"debate_id": str(debates[0]), **write(5, 0)})  # stale: in the answer, not the event
    answer = await phone.ok("POST", "/api/v1/progress/batch", json={"items": items})
    assert [r["status"] for r in answer["results"]] == ["applied"] * 30 + ["stale"]

    event = await asyncio.wait_for(mine.get(), 10)
    assert event.type == "progress.synced"
    assert sorted(p["debate_id"] for p in event.data["positions"]) == sorted(map(str, debates))
    assert await quiet(mine) == []
    # the same batch again changes nothing: no event
    await phone.ok("POST", "/api/v1/progress/batch", json={"items": items})
    assert await quiet(mine) == []

"""Collections: ordered debates with start offsets, per owner; another owner's id is a plain 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.listeners.conftest import Device, assert_problem
from tests.listeners.factories import assert_debate_shape


async def test_create_read_replace_delete(new_device: Any, make_debate: Any) -> None:
    device: Device = await new_device()
    a, b, c = await make_debate(), await make_debate(), await make_debate()
    created = await device.ok(
        "POST",
        "/api/v1/collections",
        status=201,
        json={
            "name": "  Budget 2026  ",
            "description": "les moments forts",
            "items": [{"debate_id": str(b), "start": 125.5}, {"debate_id": str(a)}, {"debate_id": str(b)}],
        },
    )
    assert created["name"] == "Budget 2026" and created["items_count"] == 3
    assert [(i["debate_id"], i["start"]) for i in created["items"]] == [
        (str(b), 125.5),
        (str(a), None),
        (str(b), None),
    ]
    assert_debate_shape(created["items"][0]["debate"], b)

    path = f"/api/v1/collections/{created['id']}"
    assert await device.ok("GET", path) == created

    replaced = await device.ok(
        "PUT", path, json={"name": "Budget", "items": [{"debate_id": str(c), "start": 0}]}
    )
    assert replaced["name"] == "Budget" and replaced["description"] is None
    assert [i["debate_id"] for i in replaced["items"]] == [str(c)]
    assert replaced["created_at"] == created["created_at"]
    assert datetime.fromisoformat(replaced["updated_at"]) > datetime.fromisoformat(created["updated_at"])

    listed = await device.ok("GET", "/api/v1/collections")
    assert [(x["id"], x["items_count"]) for x in listed["items"]] == [(created["id"], 1)]

    assert (await device.call("DELETE", path)).status == 204
    assert_problem(await device.call("GET", path), 404)
    assert_problem(await device.call("DELETE", path), 404)


async def test_another_owners_collection_is_not_found_never_forbidden(
    new_device: Any, make_debate: Any
) -> None:
    owner, stranger = await new_device(), await new_device()
    debate = await make_debate()
    body = {"name": "Mes débats", "items": [{"debate_id": str(debate)}]}
    collection = await owner.ok("POST", "/api/v1/collections", status=201, json=body)
    path = f"/api/v1/collections/{collection['id']}"

    assert_problem(await stranger.call("GET", path), 404)
    assert_problem(await stranger.call("PUT", path, json={"name": "pris", "items": []}), 404)
    # even with items naming unknown debates: the collection's existence is not revealed by a 422
    unknown = {"name": "x", "items": [{"debate_id": "00000000-0000-4000-8000-000000000000"}]}
    assert_problem(await stranger.call("PUT", path, json=unknown), 404)
    assert_problem(await stranger.call("DELETE", path), 404)
    assert (await stranger.ok("GET", "/api/v1/collections"))["items"] == []
    # untouched for its owner
    assert await owner.ok("GET", path) == collection


async def test_bad_input_is_a_422_naming_the_field(new_device: Any, make_debate: Any) -> None:
    device: Device = await new_device()
    debate = await make_debate()
    cases = [
        ({"name": "   "}, "body.name"),
        ({"items": []}, "body.name"),
        ({"name": "x", "items": [{"debate_id": "nope"}]}, "body.items.0.debate_id"),
        ({"name": "x", "items": [{"debate_id": str(debate), "start": -1}]}, "body.items.0.start"),
        (
            {
                "name": "x",
                "items": [{"debate_id": str(debate)}, {"debate_id": "00000000-0000-4000-8000-000000000000"}],
            },
            "body.items.1.debate_id",
        ),
    ]
    for body, location in cases:
        got = await device.call("POST", "/api/v1/collections", json=body)
        assert_problem(got, 422)
        assert location in {e["location"] for e in got.body["errors"]}, got.body
    assert (await device.ok("GET", "/api/v1/collections"))["items"] == []  # nothing half-written
    assert_problem(await device.call("GET", "/api/v1/collections/not-an-id"), 404)

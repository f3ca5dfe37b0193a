"""Favorites: idempotent add and remove, newest first with debate info, and private to their owner."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.factories import create_chapters, create_speaker
from tests.listeners.conftest import Device, assert_problem
from tests.listeners.factories import assert_debate_shape


async def test_add_list_remove_are_idempotent(
    new_device: Any, make_debate: Any, db: asyncpg.Connection
) -> None:
    device: Device = await new_device()
    first, second = await make_debate(title="Questions au gouvernement"), await make_debate()
    a, b = await create_speaker(db, "Mme A"), await create_speaker(db, "M. B")
    speakers = [a, b, a]
    await create_chapters(
        db, first, [{"start": i * 60, "end": (i + 1) * 60, "speaker_id": s} for i, s in enumerate(speakers)]
    )

    added = await device.ok("PUT", f"/api/v1/favorites/{first}")
    again = await device.ok("PUT", f"/api/v1/favorites/{first}")
    assert again == added  # the original added_at stays
    await device.ok("PUT", f"/api/v1/favorites/{second}")

    page = await device.ok("GET", "/api/v1/favorites")
    assert [f["debate"]["id"] for f in page["items"]] == [str(second), str(first)]
    debate = page["items"][1]["debate"]
    assert_debate_shape(debate, first)
    assert debate["title"] == "Questions au gouvernement"
    assert debate["chapters_count"] == 3 and debate["speakers_count"] == 2
    assert debate["master_url"] == f"http://media.test/hls/{first}/master.m3u8"
    assert page["next_cursor"] is None

    for _ in range(2):
        assert (await device.call("DELETE", f"/api/v1/favorites/{first}")).status == 204
    page = await device.ok("GET", "/api/v1/favorites")
    assert [f["debate"]["id"] for f in page["items"]] == [str(second)]


async def test_unknown_or_malformed_debate_is_a_404(new_device: Any) -> None:
    device: Device = await new_device()
    for method in ("PUT", "DELETE"):
        assert_problem(
            await device.call(method, "/api/v1/favorites/00000000-0000-4000-8000-000000000000"), 404
        )
        assert_problem(await device.call(method, "/api/v1/favorites/not-a-uuid"), 404)


async def test_pages_follow_the_cursor_without_gaps_or_repeats(new_device: Any, make_debate: Any) -> None:
    device: Device = await new_device()
    debates = [await make_debate() for _ in range(5)]
    for debate in debates:
        await device.ok("PUT", f"/api/v1/favorites/{debate}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await device.ok("GET", "/api/v1/favorites", params=params)
        seen += [f["debate"]["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(d) for d in reversed(debates)]


async def test_bad_paging_input_is_a_422(new_device: Any) -> None:
    device: Device = await new_device()
    for params in ({"limit": "0"}, {"limit": "1000"}, {"cursor": "garbage"}):
        got = await device.call("GET", "/api/v1/favorites", params=params)
        assert_problem(got, 422)
        assert got.body["errors"][0]["location"].startswith("query.")


async def test_favorites_are_private_to_their_owner(new_device: Any, make_debate: Any) -> None:
    mine, theirs = await new_device(), await new_device()
    debate = await make_debate()
    await mine.ok("PUT", f"/api/v1/favorites/{debate}")
    assert (await theirs.ok("GET", "/api/v1/favorites"))["items"] == []
    # removing it on their side touches only their (empty) list
    assert (await theirs.call("DELETE", f"/api/v1/favorites/{debate}")).status == 204
    assert len((await mine.ok("GET", "/api/v1/favorites"))["items"]) == 1

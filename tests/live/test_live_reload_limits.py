"""LL-HLS requests held by the API are bounded: each playlist version is read once however many players
wait on it, and one process (or one client) holds only so many waits (issue #22, item 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from packager.live.reload import playlist_position
from robian_media.app import create_app
from robian_media.live.playlist_watch import PlaylistWatch
from robian_media.settings import Settings
from tests.live.fake_rung import FakeLiveRung


def _next(rung: FakeLiveRung) -> dict[str, str]:
    """The blocking reload for the part after the last one listed."""
    return {"_HLS_msn": str(len(rung.state.segments)), "_HLS_part": str(len(rung.state.open_parts))}


async def _status(client: TestClient[Any, Any], path: str, params: dict[str, str], who: str) -> int:
    response = await client.get(path, params=params, headers={"X-Forwarded-For": who})
    await response.read()
    return response.status


async def test_blocking_reloads_are_capped_per_client_and_per_process(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rung = FakeLiveRung(tmp_path / "media")
    rung.add_part()
    settings = make_settings(
        media_root_dir=tmp_path / "media", live_reload_waiters=3, live_waiters_per_client=2
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    playlist, wanted = rung.path("index.m3u8"), _next(rung)

    held = [asyncio.create_task(_status(client, playlist, wanted, "203.0.113.1")) for _ in range(2)]
    await asyncio.sleep(0.2)
    # the same client (behind our loopback proxy) a third time: 429, told to retry
    response = await client.get(playlist, params=wanted, headers={"X-Forwarded-For": "203.0.113.1"})
    problem = await response.json(content_type=None)
    assert response.status == 429 and response.headers["Retry-After"] == "1"
    assert "at most 2 at once" in problem["detail"]
    # another client still gets the process's last slot, a third one a 503
    held.append(asyncio.create_task(_status(client, playlist, wanted, "203.0.113.2")))
    await asyncio.sleep(0.2)
    response = await client.get(playlist, params=wanted, headers={"X-Forwarded-For": "203.0.113.3"})
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    # a request the playlist already answers holds nothing: never refused
    assert await _status(client, playlist, {"_HLS_msn": "0", "_HLS_part": "0"}, "203.0.113.1") == 200
    assert not any(task.done() for task in held)

    rung.add_part()
    async with asyncio.timeout(5):
        assert await asyncio.gather(*held) == [200, 200, 200]
    # the slots are given back
    assert await _status(client, playlist, {"_HLS_msn": "0", "_HLS_part": "0"}, "203.0.113.3") == 200
    waiting = asyncio.create_task(_status(client, playlist, _next(rung), "203.0.113.3"))
    await asyncio.sleep(0.2)
    rung.add_part()
    async with asyncio.timeout(5):
        assert await waiting == 200


async def test_requests_for_live_parts_are_capped_per_client(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rung = FakeLiveRung(tmp_path / "media")
    settings = make_settings(media_root_dir=tmp_path / "media", live_waiters_per_client=1)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    hinted = rung.path(rung.hint)
    first = asyncio.create_task(_status(client, hinted, {}, "203.0.113.1"))
    await asyncio.sleep(0.2)
    assert await _status(client, hinted, {}, "203.0.113.1") == 429
    other = asyncio.create_task(_status(client, hinted, {}, "203.0.113.2"))
    await asyncio.sleep(0.2)
    rung.add_part()
    async with asyncio.timeout(5):
        assert await asyncio.gather(first, other) == [200, 200]


async def test_every_waiter_is_answered_from_one_read_of_each_version(tmp_path: Path) -> None:
    """200 players waiting on an 8-hour playlist: one read and parse per change, shared by all of them."""
    rung = FakeLiveRung(tmp_path / "media", segments=14_400)
    path = rung.directory / "index.m3u8"
    watch = PlaylistWatch()
    try:
        before = await watch.snapshot(path)
        assert await watch.snapshot(path) is before  # unchanged: not read again
        msn, part = len(rung.state.segments), len(rung.state.open_parts)
        waiters = [
            asyncio.create_task(watch.wait_for(path, lambda now: now.position.has(msn, part), 5))
            for _ in range(200)
        ]
        await asyncio.sleep(0.1)
        rung.add_part()
        answers = await asyncio.gather(*waiters)
        assert answers[0] is not None and answers[0] is not before
        assert all(answer is answers[0] for answer in answers)
        assert answers[0].position == playlist_position(path.read_text())
        # a plain request right after is answered from that same version, and so is its delta update
        assert await watch.snapshot(path) is answers[0]
        delta = await answers[0].delta()
        assert b"#EXT-X-SKIP:SKIPPED-SEGMENTS=" in delta and await answers[0].delta() is delta
    finally:
        await watch.close()

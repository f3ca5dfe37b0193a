"""LL-HLS preload hints: a request for the hinted part before it exists is answered once it is written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.live.fake_rung import FakeLiveRung


async def _fetch(client: TestClient[Any, Any], path: str) -> tuple[int, bytes, dict[str, str], float]:
    """Status, body, headers and the monotonic time the answer arrived."""
    response = await client.get(path)
    body = await response.read()
    return response.status, body, dict(response.headers), time.monotonic()


async def _not_answered(task: asyncio.Task[Any], seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)
    assert not task.done(), "answered before the part was written"


async def test_the_hinted_part_and_segment_arrive_once_written(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rung = FakeLiveRung(tmp_path / "media")
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(make_settings(media_root_dir=tmp_path / "media"))
    )
    delays = []
    for _ in range(5):
        playlist = await client.get(rung.path("index.m3u8"))
        assert f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{rung.hint}"' in await playlist.text()
        name = rung.hint
        waiting = asyncio.create_task(_fetch(client, rung.path(name)))
        await _not_answered(waiting)
        data = rung.add_part()
        written = time.monotonic()
        async with asyncio.timeout(5):
            status, body, headers, arrived = await waiting
        assert (status, body) == (200, data)
        assert body == (rung.directory / name).read_bytes()
        assert headers["Content-Type"] == "video/iso.segment"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Access-Control-Allow-Origin"] == "*"
        delays.append(arrived - written)
    # the segment being built, asked for before its last part: it comes with that part
    segment = f"seg_{len(rung.state.segments)}.m4s"
    waiting = asyncio.create_task(_fetch(client, rung.path(segment)))
    await _not_answered(waiting)
    while not (rung.directory / segment).exists():
        rung.add_part()
    status, body, _, _ = await waiting
    assert (status, body) == (200, (rung.directory / segment).read_bytes())
    # the playlist is rewritten right after the part: the wait ends within one 20 ms poll of the watcher
    print(f"hinted part written → answered: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    assert sorted(delays)[len(delays) // 2] < 0.5


async def test_names_the_stream_will_not_reach_soon_are_404_at_once(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rung = FakeLiveRung(tmp_path / "media")
    (tmp_path / "media" / "vod" / "v1" / "a64").mkdir(parents=True)
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(make_settings(media_root_dir=tmp_path / "media"))
    )
    rung.add_part()  # the hint is now part_0_1
    missing = [
        rung.path("part_9_0.m4s"),  # far beyond the hint
        rung.path("part_0_4.m4s"),
        rung.path("seg_3.m4s"),
        "/hls/vod/v1/a64/part_0_0.m4s",  # no live playlist there
        rung.path("part_00_1.m4s"),  # not a name the packager writes
        f"/hls/{rung.relative}/.part_0_1.m4s.tmp",
        f"/hls/{rung.relative.replace('/v1/', '/live/')}/part_0_1.m4s",  # not a version directory
        f"/hls/{rung.relative}/part_0_1.mp4",
    ]
    started = time.monotonic()
    for path in missing:
        response = await client.get(path)
        assert response.status == 404, path
    assert time.monotonic() - started < 2.0
    # a symlink in the hinted part's place leads nowhere
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the media root")
    (rung.directory / rung.hint).symlink_to(secret)
    response = await client.get(rung.path(rung.hint))
    assert response.status == 404 and "outside" not in await response.text()
    (rung.directory / rung.hint).unlink()
    # once the sitting has ended, nothing more will come
    rung.end()
    response = await client.get(rung.path("part_0_1.m4s"))
    assert response.status == 404


async def test_a_hinted_part_that_does_not_come_is_a_503_after_three_target_durations(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rung = FakeLiveRung(tmp_path / "media")
    settings = make_settings(media_root_dir=tmp_path / "media", live_part_waiters=2)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    started = time.monotonic()
    waiting = [
        asyncio.create_task(_fetch(client, rung.path(name))) for name in ("part_0_0.m4s", "part_0_1.m4s")
    ]
    await _not_answered(waiting[0])
    # the process holds at most live_part_waiters requests: the next is told to retry
    response = await client.get(rung.path("part_0_2.m4s"))
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    async with asyncio.timeout(15):
        answers = await asyncio.gather(*waiting)
    for status, body, headers, arrived in answers:
        assert status == 503 and headers["Retry-After"] == "1"
        assert b"did not appear within 3 s" in body
        assert 2.5 < arrived - started < 10  # the bound: 3 × the 1 s target duration

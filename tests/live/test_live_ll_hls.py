"""Low-Latency HLS on the live playlists: blocking reloads, the 400 rule, delta updates."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import m3u8
from aiohttp import web
from aiohttp.test_utils import TestClient

from packager.live.reload import playlist_position
from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web import keys
from tests.ingest.origin import Origin
from tests.live.helpers import rung_paths, start_live, text, wait_playlist, wait_stream
from tests.live.source import LiveSourcePublisher


async def test_blocking_reload_delta_update_and_too_far_ahead(
    aiohttp_client: Callable[..., Any],
    live_settings: Callable[..., Settings],
    origin: Origin,
    publisher: LiveSourcePublisher,
) -> None:
    # 1 s segments (two 0.512 s parts): the delta update's 6 s skip boundary is reached sooner
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_app(live_settings(live_segment_seconds=1.0))
    )
    started = await start_live(client, origin.url("/files/live/playlist.m3u8"))
    await wait_stream(client, started["debate_id"])
    rung = (await rung_paths(client, started["debate_id"]))[1]
    now = playlist_position(await text(client, rung))

    # the part after the last one listed: the answer waits for it, then lists it
    msn, part = now.next_msn, now.open_parts
    answered = await text(client, rung, _HLS_msn=str(msn), _HLS_part=str(part))
    assert playlist_position(answered).has(msn, part)
    listed = re.findall(r'#EXT-X-PART:DURATION=[\d.]+,URI="([^"]+)"', answered)
    for uri in listed[-2:]:
        response = await client.get(rung.rsplit("/", 1)[0] + "/" + uri)
        assert response.status == 200 and response.content_type == "video/iso.segment"
    # a whole later segment, without _HLS_part
    later = await text(client, rung, _HLS_msn=str(msn + 1))
    assert playlist_position(later).segments + playlist_position(later).media_sequence > msn + 1

    # beyond the last segment + 2: refused at once
    position = playlist_position(later)
    too_far = await client.get(rung, params={"_HLS_msn": str(position.next_msn + 5)})
    assert too_far.status == 400
    assert "more than two segments" in (await too_far.json())["detail"]
    bad = await client.get(rung, params={"_HLS_part": "1"})
    assert bad.status == 400

    # delta update: the oldest segments (further than CAN-SKIP-UNTIL=6 s from the end) skipped
    full = await wait_playlist(client, rung, lambda body: body.count("#EXTINF") >= 9, timeout=40)
    delta = await text(client, rung, _HLS_skip="YES")
    skipped = int(re.search(r"#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)", delta).group(1))  # type: ignore[union-attr]
    assert skipped >= 1
    assert delta.count("#EXTINF") + skipped >= full.count("#EXTINF")
    kept = [segment for segment in m3u8.loads(delta).segments if segment.uri]  # not the one being built
    assert all(segment.program_date_time is not None for segment in kept)
    assert sum(segment.duration for segment in kept) >= 6.0
    # the plain playlist stays whole for plain HLS clients
    assert "#EXT-X-SKIP" not in await text(client, rung)


async def test_blocking_reload_answers_as_soon_as_the_part_exists(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    started = await start_live(live_client, origin.url("/files/live/playlist.m3u8"))
    await wait_stream(live_client, started["debate_id"])
    rung = (await rung_paths(live_client, started["debate_id"]))[0]
    # several blocking requests in a row, each for the part after the last one seen: a player's loop
    position = playlist_position(await text(live_client, rung))
    for _ in range(6):
        msn, part = position.next_msn, position.open_parts
        async with asyncio.timeout(20):
            body = await text(live_client, rung, _HLS_msn=str(msn), _HLS_part=str(part))
        position = playlist_position(body)
        assert position.has(msn, part)
        # the hinted part, asked for at once (before it exists): it comes once written, whole
        hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part_[^"]+)"', body)
        assert hint is not None
        async with asyncio.timeout(20):
            hinted = await live_client.get(rung.rsplit("/", 1)[0] + "/" + hint[1])
            assert hinted.status == 200
            data = await hinted.read()
        media_root = live_client.app[keys.SETTINGS].media_root
        assert data == (media_root / rung.removeprefix("/hls/")).with_name(hint[1]).read_bytes()

"""A live sitting end to end: start, the ladder advances live, a speaker change, stop → VOD."""

from __future__ import annotations

from typing import Any

import m3u8
from aiohttp.test_utils import TestClient

from tests.ingest.conftest import ffmpeg_reads, wait_job
from tests.ingest.origin import Origin
from tests.live.helpers import rung_paths, start_live, stop_live, text, wait_playlist, wait_stream
from tests.live.source import LiveSourcePublisher


def segment_count(body: str) -> int:
    return body.count("#EXTINF")


async def test_live_ladder_advances_then_becomes_vod(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    started = await start_live(live_client, origin.url("/files/live/playlist.m3u8"), title="Séance en direct")
    debate_id = started["debate_id"]
    stream = await wait_stream(live_client, debate_id)
    assert stream["live"] is True
    rungs = await rung_paths(live_client, debate_id)
    assert len(rungs) == 5  # every rung of the ladder, the TS fallback included

    first = await wait_playlist(live_client, rungs[0], lambda body: segment_count(body) >= 1)
    later = await wait_playlist(
        live_client, rungs[0], lambda body: segment_count(body) >= segment_count(first) + 2
    )
    playlist = m3u8.loads(later)
    assert playlist.playlist_type == "event" and not playlist.is_endlist
    # (m3u8 shows the segment being built, parts only, as one without a URI)
    assert all(segment.program_date_time is not None for segment in playlist.segments if segment.uri)
    assert "#EXT-X-PART-INF:PART-TARGET=" in later and "#EXT-X-PRELOAD-HINT:TYPE=PART" in later
    for rung in rungs:
        assert "#EXT-X-PROGRAM-DATE-TIME" in await text(live_client, rung)

    stopped = await stop_live(live_client, debate_id)
    job = await wait_job(live_client, started["job_id"])
    assert job["status"] == "succeeded", job
    assert stopped["job_id"] == started["job_id"]
    for rung in rungs:
        body = await text(live_client, rung)
        assert body.rstrip().endswith("#EXT-X-ENDLIST")
        assert "#EXT-X-PART:" not in body and "#EXT-X-PRELOAD-HINT" not in body
    detail = await (await live_client.get(f"/api/v1/debates/{debate_id}")).json()
    assert detail["status"] == "published"
    assert detail["stream"]["live"] is False
    download = await live_client.get(f"/api/v1/debates/{debate_id}/download")
    assert download.status == 200
    await ffmpeg_reads(str(live_client.make_url(f"/hls/{debate_id}/master.m3u8")))

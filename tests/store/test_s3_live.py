"""A live sitting with the s3 store: the worker records on one machine, an API process with another data
directory answers LL-HLS from the bucket (blocking reloads, hinted parts), and the sitting ends as a
published version in the bucket."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from packager.live.reload import playlist_position
from robian_media.app import create_app
from robian_media.settings import Settings
from tests.ingest.conftest import AUTH, FINAL, ffmpeg_reads, wait_job
from tests.ingest.origin import Origin
from tests.live.conftest import SPEECH_FAST
from tests.live.conftest import live_settings as live_settings
from tests.live.conftest import publisher as publisher
from tests.live.helpers import start_live, wait_stream
from tests.live.source import LiveSourcePublisher
from tests.services import ServerProcess
from tests.store.s3_server import S3Server
from tests.store.test_s3_ingest import assert_every_uri_resolves, files_under
from tests.store.test_two_machines import media_files, two_machines

Machines = tuple[ServerProcess, ServerProcess, Path, Path]


@contextlib.contextmanager
def recording_machines(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, s3_server: S3Server, bucket: str,
    **settings: str,
) -> Iterator[Machines]:  # fmt: skip
    """An API process and a worker process set up for live sittings (fast polls, the fast ladder)."""
    with two_machines(
        tmp_path, s3_server, bucket, database_url=database_url, redis_url=redis_url,
        redis_prefix=redis_prefix, ladder=str(SPEECH_FAST), live_source_poll_seconds="0.2",
        live_stall_seconds="4", cache_enabled="false", **settings,
    ) as machines:  # fmt: skip
        yield machines


@pytest.fixture
def live_machines(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, s3_server: S3Server, bucket: str
) -> Iterator[Machines]:
    with recording_machines(tmp_path, database_url, redis_url, redis_prefix, s3_server, bucket) as machines:
        yield machines


async def get_text(http: aiohttp.ClientSession, url: str, **params: str) -> str:
    async with http.get(url, params=params) as response:
        assert response.status == 200, f"{url} {params}: {response.status} {await response.text()}"
        return await response.text()


async def poll_json(http: aiohttp.ClientSession, url: str, ready: Any, timeout: float) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            async with http.get(url) as response:
                if response.status == 200 and ready(found := await response.json()):
                    return found
            await asyncio.sleep(0.2)


async def start_live_over_http(
    http: aiohttp.ClientSession, server: str, source_url: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``POST /api/v1/live`` to a server process (or the nginx before it): its answer, and the debate's
    stream once it is live."""
    async with http.post(f"{server}/api/v1/live", json={"source_url": source_url}, headers=AUTH) as response:
        assert response.status == 202, await response.text()
        started: dict[str, Any] = await response.json()
    stream_url = f"{server}/api/v1/debates/{started['debate_id']}/stream"
    return started, await poll_json(http, stream_url, lambda s: s["live"], timeout=90)


async def test_a_live_sitting_recorded_on_a_worker_plays_ll_hls_from_another_machine_and_ends_in_the_bucket(
    live_machines: Machines, origin: Origin, publisher: LiveSourcePublisher, s3: Any, bucket: str
) -> None:
    api, worker, api_dir, worker_dir = live_machines
    async with aiohttp.ClientSession() as http:
        started, stream = await start_live_over_http(http, api.url, origin.url("/files/live/playlist.m3u8"))
        debate_id = started["debate_id"]
        master = await get_text(http, stream["master_url"])
        base = stream["master_url"].rsplit("/", 1)[0]
        rungs = [f"{base}/{line}" for line in master.splitlines() if line and not line.startswith("#")]
        low_latency = [url for url in rungs if "#EXT-X-PART:" in await get_text(http, url)]
        assert low_latency, master
        rung = low_latency[0]

        # a player at the live edge: each blocking reload asks for the part after the last one it saw
        position = playlist_position(await get_text(http, rung))
        for _ in range(6):
            msn, part = position.next_msn, position.open_parts
            async with asyncio.timeout(20):
                body = await get_text(http, rung, _HLS_msn=str(msn), _HLS_part=str(part))
            position = playlist_position(body)
            assert position.has(msn, part)
            listed = re.findall(r'#EXT-X-PART:DURATION=[\d.]+,URI="([^"]+)"', body)
            async with http.get(f"{rung.rsplit('/', 1)[0]}/{listed[-1]}") as response:
                assert response.status == 200 and response.content_type == "video/iso.segment"
            # the hinted part, asked for before the worker wrote it: held, then the bucket's object
            hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part_[^"]+)"', body)
            assert hint is not None
            hinted_url = f"{rung.rsplit('/', 1)[0]}/{hint[1]}"
            async with asyncio.timeout(20), http.get(hinted_url) as response:
                assert response.status == 200
                data = await response.read()
            key = "media/" + hinted_url.split("/hls/", 1)[1]
            assert data == s3.get_object(Bucket=bucket, Key=key)["Body"].read()

        async with http.post(f"{api.url}/api/v1/live/{debate_id}/stop", headers=AUTH) as response:
            assert response.status == 202, await response.text()
        job = await poll_json(
            http, f"{api.url}/api/v1/jobs/{started['job_id']}", lambda j: j["status"] in FINAL, timeout=120
        )
        assert job["status"] == "succeeded", (job, worker.output()[-3000:])
        stream = await poll_json(
            http, f"{api.url}/api/v1/debates/{debate_id}/stream", lambda s: not s["live"], timeout=10
        )
        assert stream["duration"] > 3
    # the recording is the debate's published version, whole in the bucket; no machine kept media
    assert_every_uri_resolves(s3, bucket, debate_id)
    await ffmpeg_reads(stream["master_url"])
    assert media_files(worker_dir) == [] and media_files(api_dir) == []


async def test_cancelling_a_live_sitting_takes_its_recording_out_of_the_bucket(
    aiohttp_client: Any, live_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    publisher: LiveSourcePublisher, s3: Any, bucket: str,
) -> None:  # fmt: skip
    settings: Settings = live_settings(**s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    started = await start_live(client, origin.url("/files/live/playlist.m3u8"))
    debate_id = started["debate_id"]
    await wait_stream(client, debate_id)
    assert (await client.get(f"/hls/{debate_id}/master.m3u8")).status == 200
    response = await client.delete(f"/api/v1/jobs/{started['job_id']}", headers=AUTH)
    assert response.status == 200, await response.text()
    assert (await wait_job(client, started["job_id"]))["status"] == "cancelled"
    async with asyncio.timeout(30):
        while (await client.get(f"/hls/{debate_id}/master.m3u8")).status != 404:
            await asyncio.sleep(0.2)

    def media_left() -> list[str]:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/{debate_id}/")
        left = [item["Key"] for item in listing.get("Contents", [])]
        return [key for key in left if key.endswith((".m3u8", ".m4s", ".ts", ".mp4"))]

    # only the number handed out stays (never reused); no master, no part, no playlist (the deletes
    # go on once the master is gone: the master first, so no player is sent to a missing part)
    async with asyncio.timeout(30):
        while media_left():
            await asyncio.sleep(0.2)
    assert (await client.get(f"/api/v1/debates/{debate_id}/stream")).status == 404
    assert not [p for p in files_under(settings.work_dir) if p.suffix == ".m4s"]

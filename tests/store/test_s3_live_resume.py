"""A live sitting with the s3 store whose worker dies mid-recording (kill -9) or is stopped: another
worker, on another machine with an empty data directory, resumes the same version from the bucket after
a marked gap, as the file store's worker does from its disk (tests/live/test_live_failures.py), and the
sitting ends as one published version holding the audio from before and after the crash."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.ingest.conftest import AUTH, FINAL, ffmpeg_reads
from tests.ingest.origin import Origin
from tests.live.conftest import publisher as publisher
from tests.live.source import LiveSourcePublisher
from tests.live.test_live_failures import resumed_after_gap
from tests.services import ServerProcess
from tests.store.s3_server import S3Server, StoreProxy
from tests.store.test_s3_ingest import assert_every_uri_resolves
from tests.store.test_s3_live import Machines, get_text, poll_json, recording_machines, start_live_over_http
from tests.store.test_two_machines import media_files

_URI_ATTRIBUTE = re.compile(r'URI="([^"]+)"')


@pytest.fixture
def live_machines(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, s3_server: S3Server, bucket: str,
    store_proxy: StoreProxy,
) -> Iterator[Machines]:  # fmt: skip
    # heartbeats and the stalled-worker delay of tests/ingest/test_worker_kill.py: a dead worker's job
    # goes back to the queue within seconds; the store through the proxy, which logs every request
    with recording_machines(
        tmp_path, database_url, redis_url, redis_prefix, s3_server, bucket, worker_heartbeat_seconds="0.5",
        stalled_worker_seconds="5", job_retry_base_seconds="0.3", worker_shutdown_grace_seconds="0.5",
        s3_endpoint_url=store_proxy.url,
    ) as machines:  # fmt: skip
        yield machines


def segments_read(proxy: StoreProxy) -> list[str]:
    """The segments the machines read from the store so far (rung/name)."""
    paths = [path for method, path, _ in proxy.log if method == "GET"]
    found = (re.search(r"/(\w+/seg_\d+\.(?:m4s|ts))$", path) for path in paths)
    return [match.group(1) for match in found if match]


def named_uris(playlist: str) -> list[str]:
    """Every object a player may fetch from a live playlist: segments, parts, init segments (the
    preload hint aside: the part to come; and GAP segments, which have no media)."""
    uris = []
    gap = False
    for line in playlist.splitlines():
        if line.startswith("#EXT-X-PRELOAD-HINT"):
            continue
        if line == "#EXT-X-GAP":
            gap = True
        elif line.startswith("#"):
            uris += _URI_ATTRIBUTE.findall(line)
        elif line:
            uris += [] if gap else [line]
            gap = False
    return uris


def bucket_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def top_version(s3: Any, bucket: str, debate_id: str) -> str:
    top = s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/master.m3u8")["Body"].read().decode()
    found = re.search(r"^(v\d+)/", top, re.MULTILINE)
    assert found is not None, top
    return found.group(1)


def segment_numbers(playlist: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(?:seg|gap)_(\d+)\.m4s$", playlist, re.MULTILINE)]


@pytest.mark.parametrize("worker_end", ["killed", "stopped"])
async def test_a_live_sitting_whose_worker_dies_is_resumed_from_the_bucket_by_another_machine(
    live_machines: Machines, origin: Origin, publisher: LiveSourcePublisher, s3: Any, bucket: str,
    tmp_path: Path, store_proxy: StoreProxy, worker_end: str,
) -> None:  # fmt: skip
    api, worker, api_dir, _dead_machine_dir = live_machines
    second_dir = tmp_path / "second-worker-machine"
    second = ServerProcess(
        {**worker.env, "ROBIAN_DATA_DIR": str(second_dir)},
        tmp_path / "second-worker.log",
        command="worker",
        args=("--concurrency", "1"),
    )
    try:
        async with aiohttp.ClientSession() as http:
            source_url = origin.url("/files/live/playlist.m3u8")
            started, stream = await start_live_over_http(http, api.url, source_url)
            debate_id = started["debate_id"]
            master = await get_text(http, stream["master_url"])
            base = stream["master_url"].rsplit("/", 1)[0]
            rung = f"{base}/{next(line for line in master.splitlines() if line.startswith('v'))}"
            rung_key = "media/" + rung.split("/hls/", 1)[1]
            rung_prefix = rung_key.rsplit("/", 1)[0]
            version = top_version(s3, bucket, debate_id)

            async def playlist_where(ready: Any, timeout: float) -> str:
                """The rung playlist players get, polled until ``ready``; every object it names is in the
                bucket each time (the old parts included)."""
                async with asyncio.timeout(timeout):
                    while True:
                        body = await get_text(http, rung)
                        present = bucket_keys(s3, bucket, rung_prefix + "/")
                        missing = [u for u in named_uris(body) if f"{rung_prefix}/{u}" not in present]
                        assert not missing, (missing, body)
                        if ready(body):
                            return body
                        await asyncio.sleep(0.3)

            before = await playlist_where(lambda body: body.count("#EXTINF") >= 3, timeout=60)
            first_segment = s3.get_object(Bucket=bucket, Key=f"{rung_prefix}/seg_0.m4s")["Body"].read()

            if worker_end == "killed":
                os.killpg(worker.pid, signal.SIGKILL)  # the worker's machine dies, its scratch with it
            worker.stop()  # or it is stopped (a deploy): it leaves the recording to the next attempt
            second.start()
            # once the dead worker is noticed, the other one goes on with the same recording
            after = await playlist_where(resumed_after_gap, timeout=90)
            assert top_version(s3, bucket, debate_id) == version
            assert after.startswith(before.split("#EXT-X-PART", 1)[0][:200])
            gap = after.split("#EXT-X-GAP", 1)[1]
            assert "#EXT-X-DISCONTINUITY" in gap  # a new encoder run after the marked gap
            numbers = segment_numbers(after)
            assert numbers == list(range(len(numbers))) and len(numbers) > segment_numbers(before)[-1] + 2
            assert (
                s3.get_object(Bucket=bucket, Key=f"{rung_prefix}/seg_0.m4s")["Body"].read() == first_segment
            )
            # to go on, the new worker read the playlists, not the recording: a segment or two for its
            # TS rung at most, none of the rung players follow here
            early = segments_read(store_proxy)
            assert len(early) <= 4 and not any(name.startswith("a32/") for name in early), early

            async with http.post(f"{api.url}/api/v1/live/{debate_id}/stop", headers=AUTH) as response:
                assert response.status == 202, await response.text()
            job = await poll_json(
                http, f"{api.url}/api/v1/jobs/{started['job_id']}", lambda j: j["status"] in FINAL,
                timeout=120,
            )  # fmt: skip
            assert job["status"] == "succeeded", (job, second.output()[-3000:])
            stream = await poll_json(
                http, f"{api.url}/api/v1/debates/{debate_id}/stream", lambda s: not s["live"], timeout=10
            )
            vod = await get_text(http, rung)
    finally:
        second.stop()
    # one version, the whole sitting: the audio recorded before the crash, the gap, the audio after
    assert top_version(s3, bucket, debate_id) == version
    versions = {key.split("/")[2] for key in bucket_keys(s3, bucket, f"media/{debate_id}/v")}
    assert versions == {version}
    assert vod.rstrip().endswith("#EXT-X-ENDLIST") and "#EXT-X-GAP" in vod
    assert "seg_0.m4s" in vod and f"seg_{segment_numbers(after)[-1]}.m4s" in vod
    assert stream["duration"] > 6
    assert_every_uri_resolves(s3, bucket, debate_id)
    await ffmpeg_reads(stream["master_url"])
    assert all(media_files(d) == [] for d in (second_dir, api_dir))

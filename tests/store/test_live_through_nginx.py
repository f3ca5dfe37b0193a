"""A live sitting with the s3 store behind the nginx origin ``robian-media nginx-conf`` renders: the
worker records on one machine, the origin fetches what is in the bucket, and sends what is not there
yet to an API process on another machine — LL-HLS blocking reloads, and a hinted part asked for
before the worker put it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from packager.live.reload import playlist_position
from robian_media.settings import Settings
from tests.ingest.conftest import AUTH
from tests.ingest.origin import Origin
from tests.live.conftest import publisher as publisher
from tests.live.source import LiveSourcePublisher
from tests.live.test_live_hlsjs import play
from tests.store.s3_server import S3Server
from tests.store.test_hlsjs_through_origin import start_origin as start_origin
from tests.store.test_nginx_origin import IMMUTABLE, public_read_policy
from tests.store.test_s3_live import Machines, get_text, recording_machines, start_live_over_http


@dataclass(frozen=True)
class LiveBehindNginx:
    nginx: str  # the origin's base URL
    debate_id: str
    master: str  # the top master, through the origin
    rung: str  # a low-latency rung playlist, through the origin


@pytest.fixture
def machines_behind_nginx(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, s3_server: S3Server, bucket: str
) -> Iterator[Machines]:
    with recording_machines(
        tmp_path, database_url, redis_url, redis_prefix, s3_server, bucket, behind_nginx="true"
    ) as machines:
        yield machines


@pytest.fixture
async def live_behind_nginx(
    machines_behind_nginx: Machines, origin: Origin, publisher: LiveSourcePublisher, start_origin: Any,
    s3_server: S3Server, s3: Any, bucket: str, tmp_path: Path,
) -> AsyncIterator[LiveBehindNginx]:  # fmt: skip
    api = machines_behind_nginx[0]
    # the deployment's choice (docs/media-store.md): the media prefix is public-read
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket, "media")))
    user = {"nginx_user": "root"} if os.geteuid() == 0 else {}
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "nginx-machine", media_store=f"s3://{bucket}/media",
        s3_endpoint_url=s3_server.url, **user,
    )  # fmt: skip
    nginx = start_origin(settings, api.port)
    async with aiohttp.ClientSession() as http:
        started, _ = await start_live_over_http(http, nginx, origin.url("/files/live/playlist.m3u8"))
        debate_id = started["debate_id"]
        master = f"{nginx}/hls/{debate_id}/master.m3u8"
        base = master.rsplit("/", 1)[0]
        listed = (await get_text(http, master)).splitlines()
        rungs = [f"{base}/{line}" for line in listed if line and not line.startswith("#")]
        low_latency = [url for url in rungs if "#EXT-X-PART:" in await get_text(http, url)]
        assert low_latency, rungs
        yield LiveBehindNginx(nginx, debate_id, master, low_latency[0])
        async with http.post(f"{nginx}/api/v1/live/{debate_id}/stop", headers=AUTH) as response:
            assert response.status == 202, await response.text()


async def test_blocking_reloads_and_hinted_parts_through_the_nginx_origin_of_the_bucket(
    live_behind_nginx: LiveBehindNginx, s3: Any, bucket: str
) -> None:
    live = live_behind_nginx
    directory = live.rung.rsplit("/", 1)[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(live.rung) as response:
            assert response.status == 200
            # a live playlist is kept no longer than the bucket says (it changes with every part)
            assert response.headers["Cache-Control"] == "public, max-age=2"
            position = playlist_position(await response.text())
        held_by_api = []
        for _ in range(5):
            # a player at the live edge: the blocking reload asks for the part after the last one it saw,
            # which is not in the bucket yet — the API holds it until the worker puts that part
            msn, part = position.next_msn, position.open_parts
            async with asyncio.timeout(20):
                body = await get_text(http, live.rung, _HLS_msn=str(msn), _HLS_part=str(part))
            position = playlist_position(body)
            assert position.has(msn, part), body

            # the hinted part, asked for before the worker put it: held, then the bucket's object
            hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part_[^"]+)"', body)
            assert hint is not None, body
            hinted = f"{directory}/{hint[1]}"
            key = "media/" + hinted.split("/hls/", 1)[1]
            page = {"Origin": "https://app.example"}
            async with asyncio.timeout(20), http.get(hinted, headers=page) as held:
                assert held.status == 200, await held.text()
                assert held.headers["Content-Type"] == "video/iso.segment"
                assert held.headers.getall("Access-Control-Allow-Origin") == ["*"]
                # the origin's cache status only on what the bucket answered; the API held the others
                held_by_api.append("X-Cache-Status" not in held.headers)
                data = await held.read()
            assert data == s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            # the miss was not cached: asked again, the part comes from the bucket, immutable
            async with http.get(hinted) as again:
                assert again.status == 200 and await again.read() == data
                assert again.headers["Cache-Control"] == IMMUTABLE
        # the hint is the part after the last one listed: asked at once, it is not in the bucket yet
        assert any(held_by_api), held_by_api

        # a delta update (_HLS_skip) is the API's too: once the playlist is longer than CAN-SKIP-UNTIL,
        # the segments before it are skipped
        async with asyncio.timeout(60):
            while "#EXT-X-SKIP:" not in (delta := await get_text(http, live.rung, _HLS_skip="YES")):
                await asyncio.sleep(1)
        assert playlist_position(delta).next_msn >= position.next_msn

        # a part far beyond the hint: the API's 404 at once, not a wait
        started = time.monotonic()
        async with http.get(f"{directory}/part_{position.next_msn + 50}_0.m4s") as far:
            assert far.status == 404 and far.content_type == "application/problem+json"
        assert time.monotonic() - started < 2.0
        # a key that is not a live part is the origin's own 404 problem, as before
        async with http.get(f"{live.nginx}/hls/{live.debate_id}/v99/master.m3u8") as missing:
            assert missing.status == 404 and missing.content_type == "application/problem+json"
            assert (await missing.json())["status"] == 404


async def test_hls_js_plays_the_live_sitting_through_the_nginx_origin_of_the_bucket_in_low_latency_mode(
    live_behind_nginx: LiveBehindNginx,
) -> None:
    live = live_behind_nginx
    result = await play(live.master, 16)
    assert result["supported"]
    samples = result["samples"]
    assert all(sample["fatal"] is None for sample in samples), samples
    assert all(sample["lowLatency"] for sample in samples)
    times = [sample["time"] for sample in samples]
    assert times[-1] > times[len(times) // 2] > 0.5, samples  # playing, and still advancing at the end
    # low latency through the origin: blocking reloads and parts, every one asked of nginx
    hls = [url for url in result["requests"] if "/hls/" in url]
    assert hls and all(url.startswith(f"{live.nginx}/hls/") for url in hls)
    assert any("_HLS_msn=" in url for url in hls)
    assert any("/part_" in url for url in hls)
    # each blocking reload was held until the playlist had the part it asked for (the LL-HLS contract)
    assert result["reloads"], result["requests"]
    for reload in result["reloads"]:
        asked = parse_qs(urlsplit(reload["url"]).query)
        msn, part = int(asked["_HLS_msn"][0]), int(asked["_HLS_part"][0]) if "_HLS_part" in asked else None
        assert playlist_position(reload["body"]).has(msn, part), reload
    latencies = [sample["latency"] for sample in samples[-6:] if sample["latency"] is not None]
    # generous on a loaded machine, as tests/live/test_live_hlsjs.py
    assert latencies and max(latencies) < 20, samples

"""An ingest job with the s3 store: the version's objects land in the bucket with the layout's keys, no
media stays on the worker's disk, ``/hls/`` and the download answer from the bucket (ranges included),
and a store lost mid-publish makes the job retry without ever pointing a master at missing objects."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import m3u8
import pytest
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.web import keys
from tests.events.clients import events_until
from tests.ingest.conftest import AUTH, ffmpeg_reads, submit, wait_job
from tests.ingest.origin import Origin
from tests.store.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.store.s3_server import StoreProxy

CHAPTERS = [
    {"start": 0, "speaker": {"name": "Claire Martin"}},
    {"start": 12, "speaker": {"name": "Luc Moreau"}},
]


def files_under(directory: Path) -> list[Path]:
    """The files under ``directory`` now; a scratch directory removed while this walks is skipped."""
    return [Path(root, name) for root, _dirs, names in os.walk(directory) for name in names]


def clip_objects(s3: Any, bucket: str, debate_id: str) -> dict[str, dict[str, Any]]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/clips/{debate_id}/")
    return {item["Key"]: item for item in listing.get("Contents", [])}


async def wait_clips(s3: Any, bucket: str, debate_id: str, count: int) -> None:
    """Until the job has put its interventions' clips (it does after switching the top master)."""
    deadline = asyncio.get_running_loop().time() + 60
    while len(clip_objects(s3, bucket, debate_id)) < count:
        assert asyncio.get_running_loop().time() < deadline, "the interventions' clips were not put"
        await asyncio.sleep(0.2)


def assert_every_uri_resolves(s3: Any, bucket: str, debate_id: str, *, ended: bool = True) -> None:
    """The top master, each playlist it names and each segment they name (a GAP segment has no media):
    all in the bucket (the playlists finished, unless the version may still be growing: not ``ended``)."""
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/{debate_id}/")
    present = {item["Key"].removeprefix(f"media/{debate_id}/") for item in listing.get("Contents", [])}
    top = s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/master.m3u8")["Body"].read().decode()
    master = m3u8.loads(top)
    assert master.playlists
    for playlist in master.playlists:
        assert playlist.uri in present, playlist.uri
        base = playlist.uri.rsplit("/", 1)[0]
        body = s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/{playlist.uri}")["Body"].read()
        rung = m3u8.loads(body.decode())
        assert rung.segments and (rung.is_endlist or not ended)
        for segment in rung.segments:
            assert segment.gap_tag or f"{base}/{segment.uri}" in present, segment.uri


async def test_an_ingest_publishes_to_the_bucket_and_plays_from_it_with_no_media_on_disk(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy,
) -> None:  # fmt: skip
    settings = ingest_settings(**s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    status, accepted = await submit(client, origin.url("/files/speech.m4a"), chapters=CHAPTERS)
    assert status == 202
    job = await wait_job(client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    debate_id = accepted["debate_id"]

    assert_every_uri_resolves(s3, bucket, debate_id)
    head = s3.head_object(Bucket=bucket, Key=f"media/{debate_id}/v1/download.m4a")
    assert (head["ContentType"], head["CacheControl"]) == ("audio/mp4", "public, max-age=31536000, immutable")
    prefix = f"/{bucket}/media/{debate_id}"
    await wait_clips(s3, bucket, debate_id, len(CHAPTERS))
    version_puts = [path for path in store_proxy.puts() if path.startswith(prefix)]
    assert version_puts[-2:] == [f"{prefix}/v1/master.m3u8", f"{prefix}/master.m3u8"]
    # the packager's scratch is gone (the attempt removes it just after the job row says succeeded):
    # no media on this machine's disk
    async with asyncio.timeout(10):
        while files_under(settings.work_dir):
            await asyncio.sleep(0.1)
    assert files_under(settings.media_root) == []

    # /hls/ from the bucket, with nginx's headers; a player reads it to the end
    response = await client.get(f"/hls/{debate_id}/master.m3u8")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response.headers["Cache-Control"] == "public, max-age=2"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))

    # the download, whole and by byte range
    stream = await (await client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    assert stream["master_url"].endswith(f"/hls/{debate_id}/master.m3u8")
    whole = await client.get(f"/api/v1/debates/{debate_id}/download")
    assert whole.status == 200 and whole.headers["Content-Type"] == "audio/mp4"
    assert "attachment" in whole.headers["Content-Disposition"]
    data = await whole.read()
    assert len(data) == head["ContentLength"] and data[4:8] == b"ftyp"
    part = await client.get(f"/api/v1/debates/{debate_id}/download", headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert await part.read() == data[100:200]
    tail = await client.get(f"/hls/{debate_id}/v1/download.m4a", headers={"Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == data[-10:]
    past = await client.get(f"/hls/{debate_id}/v1/download.m4a", headers={"Range": f"bytes={len(data) + 5}-"})
    assert past.status == 416
    # the old mobile client's routes: the file's size and the file itself, from the bucket
    legacy = await (await client.get(f"/api/debats/{debate_id}/stream")).json()
    assert legacy["status"] == "ready" and legacy["file_size"] == len(data)
    assert await (await client.get(f"/api/debats/{debate_id}/file")).read() == data
    missing = await client.get(f"/hls/{debate_id}/v9/master.m3u8")
    assert missing.status == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


async def test_the_store_down_mid_publish_makes_the_job_retry_and_leaks_no_credentials(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(ingest_settings(**s3_settings)))
    subscription = client.app[keys.EVENT_BUS].subscribe(["jobs"])
    store_proxy.down_for("PUT", r"\.m3u8$")  # segments go up, playlists and masters cannot
    status, accepted = await submit(client, origin.url("/files/speech.m4a"))
    assert status == 202
    seen = await events_until(subscription, lambda ev: any(e.type == "job.retrying" for e in ev), timeout=120)
    retrying = next(e.data for e in seen if e.type == "job.retrying")
    # the public event names the kind of failure (issue #22), never the store's address or keys
    assert retrying["error"] == "media store unavailable"
    # meanwhile nothing points at the half-written version
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/{accepted['debate_id']}/")
    assert not any(item["Key"].endswith("master.m3u8") for item in listing.get("Contents", []))
    store_proxy.up()

    job = await wait_job(client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert_every_uri_resolves(s3, bucket, accepted["debate_id"])
    problem = await client.get("/hls/../etc/passwd")
    text = caplog.text + retrying["error"] + await problem.text()
    assert SECRET_ACCESS_KEY not in text and ACCESS_KEY_ID not in text


async def test_a_compte_rendu_attached_with_the_s3_store_publishes_a_recut_version_to_the_bucket(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str,
) -> None:  # fmt: skip
    settings = ingest_settings(**s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    status, accepted = await submit(client, origin.portal_url + "?s3-cr")
    assert status == 202
    debate_id = accepted["debate_id"]
    assert (await wait_job(client, accepted["job_id"]))["status"] == "succeeded"
    v1 = m3u8.loads(
        s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/v1/master.m3u8")["Body"].read().decode()
    )
    rung = f"media/{debate_id}/v1/{v1.playlists[0].uri}"
    before = s3.get_object(Bucket=bucket, Key=rung)["Body"].read()

    response = await client.post(
        f"/api/v1/debates/{debate_id}/compte-rendu",
        json={"compte_rendu_url": origin.url("/cr-words.xml")},
        headers=AUTH,
    )
    assert response.status == 202, await response.text()
    job = await wait_job(client, (await response.json())["job_id"])
    assert job["status"] == "succeeded", job

    # the re-cut version is in the bucket, whole, with its words; the top master points at it
    assert_every_uri_resolves(s3, bucket, debate_id)
    top = s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/master.m3u8")["Body"].read().decode()
    assert "v2/" in top and 'SUBTITLES="subs"' in top
    subs = s3.head_object(Bucket=bucket, Key=f"media/{debate_id}/v2/subs/index.m3u8")
    assert subs["CacheControl"] == "public, max-age=31536000, immutable"
    transcript = await (await client.get(f"/api/v1/debates/{debate_id}/transcript")).json()
    assert transcript["version"] == 2 and len(transcript["paragraphs"]) == 8
    # listeners on the first version keep it, unchanged
    assert s3.get_object(Bucket=bucket, Key=rung)["Body"].read() == before
    await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))
    # no media stays on this machine's disk
    async with asyncio.timeout(10):
        while files_under(settings.work_dir):
            await asyncio.sleep(0.1)
    assert files_under(settings.media_root) == []


async def test_readiness_says_when_the_store_does_not_answer(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], store_proxy: StoreProxy
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(ingest_settings(**s3_settings)))
    ready = await (await client.get("/health/ready")).json()
    assert ready["checks"]["media_store"]["status"] == "up"
    assert ready["checks"]["media_store"]["detail"] == s3_settings["media_store"]
    store_proxy.down_for()
    response = await client.get("/health/ready")
    assert response.status == 503
    assert (await response.json())["checks"]["media_store"]["status"] == "down"

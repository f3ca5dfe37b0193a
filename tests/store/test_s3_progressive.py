"""Progressive playback with the s3 store: while the worker packages, the growing playlists and new
segments go up as they appear, so a player starts before the version is published; a job cancelled
meanwhile takes back what it uploaded."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import m3u8
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.media.serving import IMMUTABLE, SHORT
from robian_media.web import keys
from tests.events.clients import events_until
from tests.ingest.conftest import AUTH, submit, wait_job
from tests.ingest.origin import Origin
from tests.store.s3_server import StoreProxy
from tests.store.test_s3_ingest import assert_every_uri_resolves


def playable(events: list[Any]) -> bool:
    return any(e.type == "debate.updated" and e.data.get("playable") for e in events)


def bucket_keys(s3: Any, bucket: str, debate_id: str) -> set[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/{debate_id}/")
    return {item["Key"].removeprefix(f"media/{debate_id}/") for item in listing.get("Contents", [])}


async def test_with_the_s3_store_the_stream_plays_before_the_sitting_is_published(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str,
) -> None:  # fmt: skip
    # the full speech ladder on a one-minute source: packaging lasts a few seconds at least
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(ingest_settings(ladder="speech", **s3_settings))
    )
    subscription = client.app[keys.EVENT_BUS].subscribe(["debates"])
    submitted = time.monotonic()
    status, accepted = await submit(client, origin.url("/files/long.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]

    announced = [e for e in await events_until(subscription, playable, timeout=120) if playable([e])]
    assert announced[0].data["debate_id"] == debate_id
    stream = await (await client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    job = await (await client.get(f"/api/v1/jobs/{job_id}")).json()
    assert job["status"] == "running", "published before the stream was checked"
    # what the master names is in the bucket: a player starts on it, from another machine's disk
    master = await client.get(urlsplit(stream["master_url"]).path)
    assert master.status == 200 and master.headers["Cache-Control"] == SHORT
    variant = await client.get(urlsplit(stream["variants"][0]["url"]).path)
    text = await variant.text()
    first = m3u8.loads(text).segments[0].uri
    segment = await client.get(urlsplit(stream["variants"][0]["url"]).path.rsplit("/", 1)[0] + f"/{first}")
    assert segment.status == 200 and segment.headers["Cache-Control"] == IMMUTABLE
    print(f"s3 store: first playable {time.monotonic() - submitted:.2f} s after the submission")
    if "#EXT-X-ENDLIST" not in text:  # the packager may have finished it by now on a fast machine
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text
        assert variant.headers["Cache-Control"] == SHORT  # it grows: players and caches ask again

    job = await wait_job(client, job_id)
    assert job["status"] == "succeeded", job
    async with asyncio.timeout(10):
        while (final := await (await client.get(f"/api/v1/debates/{debate_id}/stream")).json())[
            "duration"
        ] is None:
            await asyncio.sleep(0.1)
    assert final["master_url"] == stream["master_url"]
    assert_every_uri_resolves(s3, bucket, debate_id)
    ended = await client.get(urlsplit(final["variants"][0]["url"]).path)
    assert "#EXT-X-ENDLIST" in await ended.text() and ended.headers["Cache-Control"] == IMMUTABLE
    path = urlsplit(final["variants"][0]["url"]).path.removeprefix("/hls/")
    head = s3.head_object(Bucket=bucket, Key=f"media/{path}")
    assert head["CacheControl"] == IMMUTABLE


async def test_a_job_cancelled_while_it_plays_from_the_bucket_removes_what_it_uploaded(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str,
) -> None:  # fmt: skip
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(ingest_settings(ladder="speech", **s3_settings))
    )
    subscription = client.app[keys.EVENT_BUS].subscribe(["debates"])
    status, accepted = await submit(client, origin.url("/files/five-minutes.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]
    await events_until(subscription, playable, timeout=120)
    assert "master.m3u8" in bucket_keys(s3, bucket, debate_id)

    response = await client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)
    assert response.status == 200
    job = await wait_job(client, job_id)
    assert job["status"] == "cancelled"
    # the uploads end with the job: no master, no object of the version left
    async with asyncio.timeout(30):
        while {k for k in bucket_keys(s3, bucket, debate_id) if not k.startswith(".")}:
            await asyncio.sleep(0.2)
    missing = await client.get(f"/hls/{debate_id}/master.m3u8")
    assert missing.status == 404


async def test_the_store_lost_while_a_version_plays_progressively_never_leaves_a_master_on_missing_objects(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy,
) -> None:  # fmt: skip
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(ingest_settings(ladder="speech", **s3_settings))
    )
    subscription = client.app[keys.EVENT_BUS].subscribe(["debates", "jobs"])
    status, accepted = await submit(client, origin.url("/files/long.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]
    await events_until(subscription, playable, timeout=120)
    # the store takes nothing more and deletes nothing: the upload, the publish and the taking back fail
    store_proxy.down_for("PUT|DELETE|POST")
    await events_until(subscription, lambda ev: any(e.type == "job.retrying" for e in ev), timeout=120)
    # players were on the growing version: it stays as it was, whatever its master names is there
    assert_every_uri_resolves(s3, bucket, debate_id, ended=False)
    store_proxy.up()

    job = await wait_job(client, job_id)
    assert job["status"] == "succeeded", job
    assert_every_uri_resolves(s3, bucket, debate_id)
    top = s3.get_object(Bucket=bucket, Key=f"media/{debate_id}/master.m3u8")["Body"].read().decode()
    assert m3u8.loads(top).playlists[0].uri.startswith("v2/")  # the next attempt: a number never used

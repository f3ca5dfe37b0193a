"""Clips with the s3 store (DESIGN §9): the publishing job cuts each intervention from the top rung's
objects and puts the clip in the bucket; a range asked for is cut the same way on the first request;
both are served from the bucket (byte ranges), or by nginx through X-Accel-Redirect; a speaker's feed
gives their exact lengths; no media stays in any data directory."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import podcastparser
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin
from tests.podcast.conftest import decodes, ffprobe
from tests.store.conftest import SECRET_ACCESS_KEY
from tests.store.s3_server import StoreProxy
from tests.store.test_s3_ingest import clip_objects, files_under, wait_clips

IMMUTABLE = "public, max-age=31536000, immutable"


async def test_clips_are_cut_from_the_bucket_stored_in_it_and_served_from_it(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy, tmp_path: Path,
) -> None:  # fmt: skip
    settings = ingest_settings(**s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    speaker = f"PA7{uuid.uuid4().int % 10**7:07d}"
    chapters = [
        {"start": 0, "speaker": {"id": speaker, "name": "Claire Martin", "group": "EXDS"}},
        {"start": 9.5, "speaker": {"name": "Jean Dupont"}},
        {"start": 20, "end": 24, "speaker": {"id": speaker, "name": "Claire Martin"}},
    ]
    source = origin.url("/files/speech.m4a")
    status, accepted = await submit(client, source, title="Séance", chapters=chapters)
    assert status == 202, accepted
    job = await wait_job(client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    debate_id = accepted["debate_id"]

    # the job puts each intervention's clip in the bucket, typed and immutable (the key names the version)
    await wait_clips(s3, bucket, debate_id, 3)
    for key in clip_objects(s3, bucket, debate_id):
        assert key.startswith(f"media/clips/{debate_id}/v1/") and key.endswith(".m4a")
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == ("audio/mp4", IMMUTABLE)

    # a speaker's feed: each enclosure plays, with its exact length
    feed_url = f"/api/v1/feeds/speakers/{speaker}.rss"
    feed = podcastparser.parse(feed_url, io.BytesIO(await (await client.get(feed_url)).read()))
    assert len(feed["episodes"]) == 2
    for n, episode in enumerate(feed["episodes"]):
        [enclosure] = episode["enclosures"]
        response = await client.get(enclosure["url"].removeprefix("http://media.test"))
        assert response.status == 200 and response.headers["Content-Type"] == "audio/mp4"
        data = await response.read()
        assert enclosure["file_size"] == len(data)  # the exact length, not an estimate
        (tmp_path / f"{n}.m4a").write_bytes(data)
        decodes(tmp_path / f"{n}.m4a")

    # any range: cut on the first request, then in the bucket; served with byte ranges
    url = f"/api/v1/debates/{debate_id}/clip.m4a?start=2&end=7"
    # a store that does not give the rung's segments: 503, nothing put, the scratch directory gone
    store_proxy.down_for("GET", r"/seg_\d+\.m4s$")
    refused = await client.get(url)
    assert refused.status == 503
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert SECRET_ACCESS_KEY not in await refused.text()
    assert len(clip_objects(s3, bucket, debate_id)) == 3
    assert files_under(settings.work_dir) == []
    store_proxy.up()
    first = await client.get(url)
    assert first.status == 200, await first.text()
    assert "attachment" in first.headers["Content-Disposition"]
    data = await first.read()
    (tmp_path / "range.m4a").write_bytes(data)
    decodes(tmp_path / "range.m4a")
    assert abs(float(ffprobe(tmp_path / "range.m4a")["format"]["duration"]) - 5.0) < 0.05
    assert len(clip_objects(s3, bucket, debate_id)) == 4
    part = await client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status == 206 and await part.read() == data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"

    # no media on this machine: the rung's objects were fetched into a scratch directory, now gone
    assert files_under(settings.media_root) == [] and files_under(settings.work_dir) == []

    # behind nginx, nginx sends the object: the internal location proxying the bucket, same key
    behind: TestClient[Any, Any] = await aiohttp_client(
        create_app(ingest_settings(**s3_settings, behind_nginx=True, workers=0))
    )
    accel = await behind.get(url)
    assert accel.status == 200 and await accel.read() == b""
    assert accel.headers["X-Accel-Redirect"] == f"/_media/clips/{debate_id}/v1/2000-7000.m4a"
    # the old mobile client's file too: the download's object, the same serving path
    legacy = await behind.get(f"/api/debats/{debate_id}/file")
    assert legacy.headers["X-Accel-Redirect"] == f"/_media/{debate_id}/v1/download.m4a"

"""A job whose worker dies (kill -9) while putting its version in the bucket: cancelled by an operator
while it waits in the queue for its retry, the objects the dead attempt put go and the published version
stays whole and playable (issue #19); retried, the retry removes them before it starts its own version."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.jobs.worker import requeue_stalled_jobs
from robian_media.web import keys
from tests.ingest.conftest import AUTH, ffmpeg_reads, submit, wait_job
from tests.ingest.origin import Origin
from tests.services import ServerProcess, server_env
from tests.store.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.store.s3_server import StoreProxy
from tests.store.test_s3_ingest import assert_every_uri_resolves
from tests.store.test_s3_live_resume import bucket_keys, top_version

QUEUE_JOB = """
SELECT q.status FROM jobs j LEFT JOIN procrastinate_jobs q ON q.id = j.queue_job_id WHERE j.id = $1
"""


def worker_process(
    settings: Any, s3_settings: dict[str, Any], proxy: StoreProxy, tmp_path: Path, name: str
) -> ServerProcess:
    """``robian-media worker`` with the API's database, Redis, ladder and portal, and the bucket through
    the proxy, as another machine would run it."""
    env = server_env(
        database_url=str(settings.database_url), redis_url=str(settings.redis_url),
        redis_prefix=settings.redis_prefix, data_dir=str(tmp_path / name), ladder=settings.ladder,
        ingest_allow_private="true", an_portal_hosts="127.0.0.1", an_acteur_url=settings.an_acteur_url,
        an_organe_url=settings.an_organe_url, worker_poll_seconds="0.2", worker_heartbeat_seconds="0.5",
        stalled_worker_seconds="5", media_store=s3_settings["media_store"], s3_endpoint_url=proxy.url,
        s3_retry_seconds="2",
    )  # fmt: skip
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY})
    return ServerProcess(env, tmp_path / f"{name}.log", command="worker", args=("--concurrency", "1"))


async def queue_status(database_url: str, job_id: str) -> str | None:
    """The queue job's status, None once it is gone (a finished run is deleted)."""
    conn = await asyncpg.connect(database_url)
    try:
        status = await conn.fetchval(QUEUE_JOB, job_id)
    finally:
        await conn.close()
    return None if status is None else str(status)


@pytest.mark.parametrize(
    ("cancelled", "published_before"),
    [
        # re-queued by a sweeper, cancelled while it waits: its next run removes the objects
        ("queued", True),
        # cancelled while the queue still has it running on the dead worker: the sweeper removes them
        ("running", False),
    ],
)
async def test_a_job_cancelled_after_its_worker_died_mid_upload_leaves_none_of_its_objects(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy, database_url: str, tmp_path: Path,
    cancelled: str, published_before: bool,
) -> None:  # fmt: skip
    settings = ingest_settings(workers=0, **s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    first = worker_process(settings, s3_settings, store_proxy, tmp_path, "worker-a").start()
    second = worker_process(settings, s3_settings, store_proxy, tmp_path, "worker-b")
    try:
        if published_before:
            status, accepted = await submit(client, origin.portal_url + "?s3-cr")
            assert status == 202
            debate_id = accepted["debate_id"]
            assert (await wait_job(client, accepted["job_id"]))["status"] == "succeeded", first.output()[
                -3000:
            ]
            published = bucket_keys(s3, bucket, f"media/{debate_id}/v1/")
            # a second version (a compte rendu's re-cut), put slowly: the worker dies while it goes up
            store_proxy.put_delay = 1.0
            response = await client.post(
                f"/api/v1/debates/{debate_id}/compte-rendu",
                json={"compte_rendu_url": origin.url("/cr-words.xml")},
                headers=AUTH,
            )
            assert response.status == 202, await response.text()
            job_id, dead = (await response.json())["job_id"], "v2"
            left = f"media/{debate_id}/{dead}/"
        else:
            # the first version, put slowly: the worker dies once players were sent to it
            store_proxy.put_delay = 1.0
            status, accepted = await submit(client, origin.url("/files/speech.m4a"))
            assert status == 202
            job_id, debate_id, dead = accepted["job_id"], accepted["debate_id"], "v1"
            left = f"media/{debate_id}/master.m3u8"
        async with asyncio.timeout(60):
            while not bucket_keys(s3, bucket, left):
                await asyncio.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        first.stop()
        store_proxy.put_delay = 0.0
        assert bucket_keys(s3, bucket, f"media/{debate_id}/{dead}/")

        if cancelled == "queued":
            # the dead worker's job goes back to the queue (a sweeper's work), where it is cancelled
            async with asyncio.timeout(30):
                while not await requeue_stalled_jobs(client.app[keys.JOB_QUEUE], settings):
                    await asyncio.sleep(0.5)
            assert await queue_status(database_url, job_id) == "todo"
        else:
            assert await queue_status(database_url, job_id) == "doing"
        response = await client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)
        assert response.status == 200
        assert (await response.json())["status"] == "cancelled"

        second.start()
        async with asyncio.timeout(60):
            while await queue_status(database_url, job_id) in ("todo", "doing"):
                await asyncio.sleep(0.2)
        # nothing of the cancelled version is left, and nothing of the published one went
        assert bucket_keys(s3, bucket, f"media/{debate_id}/{dead}/") == set(), second.output()[-3000:]
        assert bucket_keys(s3, bucket, f"media/clips/{debate_id}/{dead}/") == set()
        assert (await wait_job(client, job_id))["status"] == "cancelled"
        debate = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
        if not published_before:
            assert bucket_keys(s3, bucket, f"media/{debate_id}/") == {f"media/{debate_id}/.last_version"}
            assert (await client.get(f"/hls/{debate_id}/master.m3u8")).status == 404
            assert debate["status"] == "cancelled"
            return
        assert bucket_keys(s3, bucket, f"media/{debate_id}/v1/") == published
        assert top_version(s3, bucket, debate_id) == "v1"
        assert_every_uri_resolves(s3, bucket, debate_id)
        await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))
        assert debate["status"] == "published"
    finally:
        store_proxy.put_delay = 0.0
        second.stop()
        first.stop()


async def test_a_first_ingest_retried_after_its_worker_died_mid_upload_sends_players_to_the_retry(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3: Any, bucket: str, store_proxy: StoreProxy, tmp_path: Path,
) -> None:  # fmt: skip
    """Players sent to a first version as it went up lose it with its worker: the retry removes what the
    dead attempt put (never taking it for a published version) and sends players to its own version
    as soon as that is playable, not only once it is published."""
    settings = ingest_settings(workers=0, **s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    first = worker_process(settings, s3_settings, store_proxy, tmp_path, "worker-a").start()
    second = worker_process(settings, s3_settings, store_proxy, tmp_path, "worker-b")
    try:
        store_proxy.put_delay = 1.0
        status, accepted = await submit(client, origin.url("/files/speech.m4a"))
        assert status == 202
        job_id, debate_id = accepted["job_id"], accepted["debate_id"]
        async with asyncio.timeout(60):
            while not bucket_keys(s3, bucket, f"media/{debate_id}/master.m3u8"):
                await asyncio.sleep(0.1)
        assert top_version(s3, bucket, debate_id) == "v1"
        os.killpg(first.pid, signal.SIGKILL)
        first.stop()
        async with asyncio.timeout(30):
            while not await requeue_stalled_jobs(client.app[keys.JOB_QUEUE], settings):
                await asyncio.sleep(0.5)

        # the retry's uploads are slow too: its version is playable long before it is published
        store_proxy.put_delay = 0.3
        second.start()
        async with asyncio.timeout(90):
            while not bucket_keys(s3, bucket, f"media/{debate_id}/v2/"):
                await asyncio.sleep(0.1)
            while top_version_or_none(s3, bucket, debate_id) != "v2":
                await asyncio.sleep(0.1)
        job = await (await client.get(f"/api/v1/jobs/{job_id}", headers=AUTH)).json()
        assert job["status"] == "running", "players reached the retry's version only once it was published"
        assert bucket_keys(s3, bucket, f"media/{debate_id}/v1/") == set()

        store_proxy.put_delay = 0.0
        assert (await wait_job(client, job_id))["status"] == "succeeded", second.output()[-3000:]
        assert bucket_keys(s3, bucket, f"media/{debate_id}/v1/") == set()
        assert top_version(s3, bucket, debate_id) == "v2"
        assert_every_uri_resolves(s3, bucket, debate_id)
        await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))
    finally:
        store_proxy.put_delay = 0.0
        second.stop()
        first.stop()


def top_version_or_none(s3: Any, bucket: str, debate_id: str) -> str | None:
    """The version the top master points at, None while there is none."""
    if not bucket_keys(s3, bucket, f"media/{debate_id}/master.m3u8"):
        return None
    return top_version(s3, bucket, debate_id)

"""The multi-machine shape on one host: a worker process with its own empty data directory packages
and publishes to the bucket while an API process with another data directory serves it. They share
PostgreSQL, Redis and the store — no disk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.ingest.conftest import AUTH, FINAL, LIGHT_LADDER, ffmpeg_reads
from tests.ingest.origin import Origin
from tests.services import ServerProcess, server_env
from tests.store.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.store.s3_server import S3Server
from tests.store.test_s3_ingest import files_under

MEDIA_SUFFIXES = {".m3u8", ".m4s", ".mp4", ".m4a", ".ts", ".vtt"}


def media_files(directory: Path) -> list[Path]:
    return [p for p in files_under(directory) if p.suffix in MEDIA_SUFFIXES]


@contextlib.contextmanager
def two_machines(
    tmp_path: Path, s3_server: S3Server, bucket: str, **settings: str
) -> Iterator[tuple[ServerProcess, ServerProcess, Path, Path]]:
    """An API process and a worker process, each with its own data directory; ``settings`` are both's
    (database, Redis, ladder, the bucket…)."""
    shared = {
        "admin_token": ADMIN_TOKEN,
        "ingest_allow_private": "true",
        "worker_poll_seconds": "0.2",
        "media_store": f"s3://{bucket}/media",
        "s3_endpoint_url": s3_server.url,
        **settings,
    }
    credentials = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    api_dir, worker_dir = tmp_path / "api-machine", tmp_path / "worker-machine"
    api = ServerProcess(
        {**server_env(**shared, data_dir=str(api_dir), workers="0"), **credentials}, tmp_path / "api.log"
    )
    worker = ServerProcess(
        {**server_env(**shared, data_dir=str(worker_dir)), **credentials},
        tmp_path / "worker.log",
        command="worker",
        args=("--concurrency", "1"),
    )
    try:
        api.start()
        worker.start()
        yield api, worker, api_dir, worker_dir
    finally:
        worker.stop()
        api.stop()


@pytest.fixture
def machines(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, s3_server: S3Server, bucket: str
) -> Iterator[tuple[ServerProcess, ServerProcess, Path, Path]]:
    with two_machines(
        tmp_path, s3_server, bucket, database_url=database_url, redis_url=redis_url,
        redis_prefix=redis_prefix, ladder=str(LIGHT_LADDER),
    ) as machines:  # fmt: skip
        yield machines


async def test_a_worker_publishes_to_the_store_and_another_machine_serves_it(
    machines: tuple[ServerProcess, ServerProcess, Path, Path], origin: Origin
) -> None:
    api, worker, api_dir, worker_dir = machines
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{api.url}/api/v1/ingest", json={"source_url": origin.url("/files/speech.m4a")}, headers=AUTH
        ) as response:
            assert response.status == 202, await response.text()
            accepted: dict[str, Any] = await response.json()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 180
        while True:
            async with http.get(f"{api.url}/api/v1/jobs/{accepted['job_id']}") as response:
                job = await response.json()
            if job["status"] in FINAL:
                break
            assert loop.time() < deadline, job
            await asyncio.sleep(0.2)
        assert job["status"] == "succeeded", (job, worker.output()[-3000:])
        async with http.get(f"{api.url}/api/v1/debates/{accepted['debate_id']}/stream") as response:
            stream = await response.json()
    assert stream["master_url"] == f"{api.url}/hls/{accepted['debate_id']}/master.m3u8"
    await ffmpeg_reads(stream["master_url"])
    # neither machine keeps media on its disk: the worker's scratch is gone, the API never had any
    assert media_files(worker_dir) == [] and media_files(api_dir) == []
    assert SECRET_ACCESS_KEY not in api.output() + worker.output()

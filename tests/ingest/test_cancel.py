"""DELETE /api/v1/jobs/{id}: yt-dlp or FFmpeg stopped, partial files removed, nothing half-published."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from tests.ingest.conftest import AUTH, packaging_ffmpeg, processes_in, submit, wait_job
from tests.ingest.origin import Origin


def children_running(module: str) -> list[int]:
    """Our child processes running ``python -m module``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and module.encode() in cmdline:
            found.append(int(proc.name))
    return found


async def eventually(check: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def queue_status(database_url: str, job_id: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        return str(
            await conn.fetchval(
                "SELECT q.status FROM jobs j JOIN procrastinate_jobs q ON q.id = j.queue_job_id"
                " WHERE j.id = $1",
                job_id,
            )
        )
    finally:
        await conn.close()


async def test_cancel_while_packaging_stops_ffmpeg_and_publishes_nothing(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str, tmp_path: Path
) -> None:
    # the full speech ladder: packaging lasts long enough to be cancelled in the middle
    ingest_client = await aiohttp_client(create_app(ingest_settings(ladder="speech")))
    status, accepted = await submit(ingest_client, origin.url("/files/five-minutes.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]
    debate_dir = tmp_path / "data" / "media" / debate_id
    assert await packaging_ffmpeg(debate_dir), "FFmpeg should be running in the version being made"

    response = await ingest_client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)
    assert response.status == 200
    job = await response.json()
    assert (job["status"], job["error"]) == ("cancelled", "Cancelled by an operator.")

    async def aborted() -> bool:
        return await queue_status(database_url, job_id) == "aborted"

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not await aborted():
        assert loop.time() < deadline
        await asyncio.sleep(0.1)
    assert processes_in(tmp_path) == []
    assert (
        sorted(p.name for p in debate_dir.iterdir() if not p.name.startswith(".")) == []
    )  # no v1, no master
    assert not (tmp_path / "data" / "work" / job_id).exists()
    assert (await wait_job(ingest_client, job_id))["status"] == "cancelled"
    response = await ingest_client.get(f"/hls/{debate_id}/master.m3u8")
    assert response.status == 404
    conn = await asyncpg.connect(database_url)
    try:
        debate = await conn.fetchrow("SELECT status, current_version FROM debates WHERE id = $1", debate_id)
        renditions = await conn.fetchval("SELECT count(*) FROM renditions WHERE debate_id = $1", debate_id)
    finally:
        await conn.close()
    assert (debate["status"], debate["current_version"], renditions) == ("cancelled", None, 0)

    # cancelling twice is harmless; the source can be submitted again (a new job, the same debate)
    assert (await ingest_client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)).status == 200
    status, again = await submit(ingest_client, origin.url("/files/five-minutes.m4a"))
    assert status == 202 and again["debate_id"] == debate_id and again["job_id"] != job_id


async def test_cancel_while_fetching_stops_ytdlp_and_removes_the_partial_download(
    ingest_client: TestClient[Any, Any], origin: Origin, tmp_path: Path
) -> None:
    status, accepted = await submit(ingest_client, origin.url("/slow/speech.m4a"))
    assert status == 202
    job_id = accepted["job_id"]
    await wait_job(ingest_client, job_id, until=lambda j: j["stage"] == "fetching" and j["progress"] > 0.02)
    assert children_running("robian_media.ingest.sources.ytdlp_child")
    work = tmp_path / "data" / "work" / job_id
    assert any(work.rglob("*")), "yt-dlp should be writing its partial download"

    response = await ingest_client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)
    assert response.status == 200
    await eventually(lambda: not children_running("robian_media.ingest.sources.ytdlp_child"))
    await eventually(lambda: not work.exists())
    assert (await wait_job(ingest_client, job_id))["status"] == "cancelled"


async def test_a_finished_job_cannot_be_cancelled(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    _, accepted = await submit(ingest_client, origin.url("/files/no-such-file.m4a"))
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    response = await ingest_client.delete(f"/api/v1/jobs/{accepted['job_id']}", headers=AUTH)
    assert response.status == 409
    assert "already failed" in (await response.json())["detail"]
    response = await ingest_client.delete(f"/api/v1/jobs/{accepted['job_id']}")
    assert response.status == 401
    missing = await ingest_client.delete("/api/v1/jobs/00000000-0000-0000-0000-000000000000", headers=AUTH)
    assert missing.status == 404

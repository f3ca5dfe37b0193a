"""A worker killed (SIGKILL) mid-package: another worker re-runs the job; one version is published."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import asyncpg

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.ingest.conftest import AUTH, ffmpeg_reads, packaging_ffmpeg, processes_in, submit, wait_job
from tests.ingest.origin import Origin


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env.update(
        {
            "ROBIAN_DATABASE_URL": str(settings.database_url),
            "ROBIAN_REDIS_URL": str(settings.redis_url),
            "ROBIAN_REDIS_PREFIX": settings.redis_prefix,
            "ROBIAN_DATA_DIR": str(settings.data_dir),
            "ROBIAN_LADDER": settings.ladder,
            "ROBIAN_INGEST_ALLOW_PRIVATE": "true",
            "ROBIAN_WORKER_POLL_SECONDS": "0.2",
            "ROBIAN_WORKER_HEARTBEAT_SECONDS": "0.5",
            "ROBIAN_STALLED_WORKER_SECONDS": "5",
            "ROBIAN_LOG_JSON": "false",
            "ROBIAN_LOG_LEVEL": "WARNING",
        }
    )
    return env


async def start_worker(settings: Settings, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "robian_media.cli", "worker", "--concurrency", "1",
            env=worker_env(settings), stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


async def test_a_killed_worker_s_job_is_finished_by_another_and_published_once(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str, tmp_path: Path
) -> None:
    # the full speech ladder: packaging lasts long enough to be killed in the middle
    settings = ingest_settings(workers=0, ladder="speech")
    client = await aiohttp_client(create_app(settings))
    first = await start_worker(settings, tmp_path / "worker-a.log")
    second = None
    try:
        status, accepted = await submit(client, origin.url("/files/five-minutes.m4a"))
        assert status == 202
        job_id, debate_id = accepted["job_id"], accepted["debate_id"]
        assert await packaging_ffmpeg(settings.media_root / debate_id), "FFmpeg should be packaging"

        os.killpg(first.pid, signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        # as far as anyone can tell the job is still running: nothing else saw the worker die
        assert (await (await client.get(f"/api/v1/jobs/{job_id}")).json())["status"] == "running"
        second = await start_worker(settings, tmp_path / "worker-b.log")

        job = await wait_job(client, job_id, timeout=180)
        assert job["status"] == "succeeded", (job, (tmp_path / "worker-b.log").read_text())
        conn = await asyncpg.connect(database_url)
        try:
            attempts = await conn.fetchval("SELECT attempts FROM jobs WHERE id = $1", job_id)
            renditions = await conn.fetch(
                "SELECT version, status FROM renditions WHERE debate_id = $1 ORDER BY version", debate_id
            )
            current = await conn.fetchval("SELECT current_version FROM debates WHERE id = $1", debate_id)
        finally:
            await conn.close()
        assert attempts == 2
        assert [tuple(r) for r in renditions] == [(2, "published")]
        assert current == 2
        debate_dir = settings.media_root / debate_id
        # the killed attempt's half-made v1 is gone; the master points at v2
        assert sorted(p.name for p in debate_dir.iterdir() if p.is_dir()) == ["v2"]
        assert "v2/" in (debate_dir / "master.m3u8").read_text()
        await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))
        assert processes_in(settings.media_root) == []
    finally:
        await stop_workers(first, second)
    assert second is not None and second.returncode == 0


async def stop_workers(*procs: asyncio.subprocess.Process | None) -> None:
    for proc in procs:
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def test_a_job_cancelled_while_its_killed_worker_still_held_it_leaves_no_half_made_version(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str, tmp_path: Path
) -> None:
    settings = ingest_settings(workers=0, ladder="speech")
    client = await aiohttp_client(create_app(settings))
    # two workers on one disk: when one dies, nothing restarts to recover the debate it was making
    workers = [await start_worker(settings, tmp_path / f"worker-{n}.log") for n in "ab"]
    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(60):
            while await conn.fetchval("SELECT count(*) FROM procrastinate_workers") < 2:
                await asyncio.sleep(0.1)
        status, accepted = await submit(client, origin.url("/files/five-minutes.m4a"))
        assert status == 202
        job_id, debate_id = accepted["job_id"], accepted["debate_id"]
        debate_dir = settings.media_root / debate_id
        ffmpeg = await packaging_ffmpeg(debate_dir)
        dead = next(proc for proc in workers if proc.pid in {parent_of(pid) for pid in ffmpeg})

        os.killpg(dead.pid, signal.SIGKILL)
        assert await dead.wait() == -signal.SIGKILL
        # the operator cancels the job that looks stuck: the queue still has it running
        response = await client.delete(f"/api/v1/jobs/{job_id}", headers=AUTH)
        assert response.status == 200 and (await response.json())["status"] == "cancelled"
        queue_job = (
            "SELECT q.status FROM jobs j JOIN procrastinate_jobs q ON q.id = j.queue_job_id WHERE j.id = $1"
        )
        async with asyncio.timeout(60):
            while await conn.fetchval(queue_job, job_id) == "doing":
                await asyncio.sleep(0.2)

        # the killed attempt's half-made version is gone, and no master points at it
        assert sorted(p.name for p in debate_dir.iterdir() if not p.name.startswith(".")) == []
        assert (await client.get(f"/hls/{debate_id}/master.m3u8")).status == 404
        assert (await wait_job(client, job_id))["status"] == "cancelled"
        assert processes_in(settings.media_root) == []
    finally:
        await conn.close()
        await stop_workers(*workers)
    assert [proc.returncode for proc in workers if proc is not dead] == [0]

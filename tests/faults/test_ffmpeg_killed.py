"""FFmpeg SIGKILLed in the middle of packaging (the OOM killer, an operator's kill -9).

The worker sees a process killed by a signal (transient), removes the half-made version and tries
again; the sitting is published once, as the next version, and plays. The worker itself being
killed is tests/ingest/test_worker_kill.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg

from robian_media.app import create_app
from tests.ingest.conftest import ffmpeg_reads, processes_in, submit, wait_job
from tests.ingest.media import tones
from tests.ingest.origin import Origin


async def test_a_killed_ffmpeg_is_retried_and_the_sitting_published_once(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str, media: Path
) -> None:
    # long enough that encoding lasts a few seconds, so FFmpeg is caught in the middle
    if not (media / "five-minutes.m4a").exists():
        tones(media / "five-minutes.m4a", 300, "-c:a", "aac", "-b:a", "64k")
    # the full speech ladder: packaging lasts long enough to be killed in the middle
    settings = ingest_settings(ladder="speech", workers=1)
    client = await aiohttp_client(create_app(settings))
    status, accepted = await submit(client, origin.url("/files/five-minutes.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]
    victims = await ffmpeg_of(client, job_id, settings.media_root / debate_id)
    killed = 0
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    assert killed, "FFmpeg ended before it could be killed"

    job = await wait_job(client, job_id, timeout=240)
    assert job["status"] == "succeeded", job
    conn = await asyncpg.connect(database_url)
    try:
        attempts = await conn.fetchval("SELECT attempts FROM jobs WHERE id = $1", job_id)
        renditions = await conn.fetch(
            "SELECT version, status FROM renditions WHERE debate_id = $1 ORDER BY version", debate_id
        )
    finally:
        await conn.close()
    assert attempts == 2
    assert [tuple(r) for r in renditions] == [(2, "published")]
    debate_dir = settings.media_root / debate_id
    assert sorted(p.name for p in debate_dir.iterdir() if p.is_dir()) == ["v2"]
    await ffmpeg_reads(str(client.make_url(f"/hls/{debate_id}/master.m3u8")))
    assert processes_in(settings.media_root) == []


async def ffmpeg_of(client: Any, job_id: str, debate_dir: Path) -> list[int]:
    """FFmpeg's pids once packaging is under way (well into the encoding)."""
    await wait_job(client, job_id, until=lambda j: j["stage"] == "packaging")
    for _ in range(200):
        found = processes_in(debate_dir)
        if found:
            await asyncio.sleep(0.5)  # some segments written: a real half-made version
            return processes_in(debate_dir) or found
        await asyncio.sleep(0.05)
    raise AssertionError("FFmpeg never ran in the debate's directory")

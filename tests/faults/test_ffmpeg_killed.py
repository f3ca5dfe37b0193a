"""FFmpeg SIGKILLed in the middle of packaging (the OOM killer, an operator's kill -9).

The worker sees a process killed by a signal (transient), removes the half-made version and tries
again; the sitting is published once, as the next version, and plays. The worker itself being
killed is tests/ingest/test_worker_kill.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

import asyncpg

from robian_media.app import create_app
from tests.ingest.conftest import ffmpeg_reads, packaging_ffmpeg, processes_in, submit, wait_job
from tests.ingest.origin import Origin


async def test_a_killed_ffmpeg_is_retried_and_the_sitting_published_once(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str
) -> None:
    # the full speech ladder: packaging lasts long enough to be killed in the middle
    settings = ingest_settings(ladder="speech", workers=1)
    client = await aiohttp_client(create_app(settings))
    status, accepted = await submit(client, origin.url("/files/five-minutes.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]
    victims = await packaging_ffmpeg(settings.media_root / debate_id)
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

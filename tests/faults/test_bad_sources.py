"""Sources that misbehave: each job ends (failed, with a reason a person can act on), none hangs.

The worker and the server stay healthy; no partial debate is published; nothing is left running.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from robian_media.app import create_app
from tests.faults.bad_origin import BadOrigin
from tests.ingest.conftest import processes_in, submit, wait_job


@pytest.fixture
async def bad_origin(media: Path) -> AsyncIterator[BadOrigin]:
    server = await BadOrigin(media).start()
    yield server
    await server.stop()


CASES = {
    "truncated": ("/truncated.m4a", ""),
    "endless": ("/endless/index.m3u8", "live"),
    "huge": ("/huge.m4a", "larger"),
    "slowloris": ("/slowloris.m4a", "slow"),
    "loop": ("/loop", "redirect"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_misbehaving_source_fails_the_job_clearly(
    aiohttp_client: Any, ingest_settings: Any, bad_origin: BadOrigin, case: str, tmp_path: Path
) -> None:
    path, reason = CASES[case]
    settings = ingest_settings(job_max_attempts=2, ingest_stall_seconds=3)
    client = await aiohttp_client(create_app(settings))
    started = time.monotonic()
    status, accepted = await submit(client, bad_origin.url(path))
    assert status == 202, accepted
    job = await wait_job(client, accepted["job_id"], timeout=90)
    assert time.monotonic() - started < 60  # a job never hangs on a bad source
    assert job["status"] == "failed", job
    assert reason in job["error"].lower(), job["error"]
    assert (await client.get(f"/api/v1/debates/{accepted['debate_id']}/stream")).status == 404
    assert (await client.get("/health")).status == 200
    assert processes_in(tmp_path) == []

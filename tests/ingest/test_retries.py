"""Transient failures are retried with backoff; permanent ones fail at once with a clear error."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.web import keys
from tests.events.clients import events_until, quiet
from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin


async def attempts(database_url: str, job_id: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT attempts FROM jobs WHERE id = $1", job_id))
    finally:
        await conn.close()


async def test_a_source_answering_500_then_200_is_retried_and_published(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    subscription = ingest_client.app[keys.EVENT_BUS].subscribe(["jobs"])
    origin.fail("/files/speech.m4a", 500)
    status, accepted = await submit(ingest_client, origin.url("/files/speech.m4a"))
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert origin.statuses("/files/speech.m4a")[0] == 500
    assert await attempts(database_url, accepted["job_id"]) == 2
    seen = await events_until(subscription, lambda events: any(e.type == "job.succeeded" for e in events))
    retrying = [e.data for e in seen + await quiet(subscription) if e.type == "job.retrying"]
    assert len(retrying) == 1 and "HTTP 500" in retrying[0]["error"]


async def test_a_missing_source_fails_at_once_with_a_clear_error(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    status, accepted = await submit(ingest_client, origin.url("/files/no-such-sitting.m4a"))
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    assert job["error"] == f"{origin.url('/files/no-such-sitting.m4a')} answered HTTP 404 Not Found"
    assert await attempts(database_url, accepted["job_id"]) == 1


async def test_retries_stop_after_the_configured_attempts(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, database_url: str
) -> None:
    ingest_client = await aiohttp_client(create_app(ingest_settings(job_max_attempts=2)))
    origin.fail("/files/speech.m4a", 503, 503, 503)
    status, accepted = await submit(ingest_client, origin.url("/files/speech.m4a"))
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    assert "HTTP 503" in job["error"]
    assert await attempts(database_url, accepted["job_id"]) == 2  # ROBIAN_JOB_MAX_ATTEMPTS
    # failed is not final for the source: submitting it again starts a new job for the same debate
    status, again = await submit(ingest_client, origin.url("/files/speech.m4a"))
    assert status == 202
    assert again["debate_id"] == accepted["debate_id"] and again["job_id"] != accepted["job_id"]

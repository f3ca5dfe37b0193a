"""Starting a live job: the debate (status ``live``), our job row and the queue's job in one transaction.

A live source URL (a portal channel's playlist) is reused sitting after sitting, so it is not the
debate's idempotency key: submitting it again while its live job is active returns that job; once
that one ended, a new sitting (a new debate) starts.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import procrastinate
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..jobs.queue import LIVE_TASK, debate_lock
from ..jobs.submit import SubmissionRefused, Submitted
from ..settings import Settings
from ..sources.errors import SourceRefused
from ..sources.fetch_policy import FetchPolicy
from .models import LiveRequest

log = logging.getLogger(__name__)

ACTIVE_LIVE = """
SELECT j.id, j.debate_id FROM jobs j JOIN debates d ON d.id = j.debate_id
 WHERE j.kind = 'live' AND j.status IN ('queued', 'running') AND d.source_url = %(source_url)s
 ORDER BY j.created_at DESC LIMIT 1
"""
# one live start at a time per source URL, so two concurrent requests cannot both create a sitting
LOCK_SOURCE = "SELECT pg_advisory_xact_lock(hashtextextended(%(source_url)s, 7))"
INSERT_DEBATE = """
INSERT INTO debates (title, chamber, body, starts_at, source_url, source_key, status)
VALUES (%(title)s, %(chamber)s, %(body)s, %(starts_at)s, %(source_url)s, %(source_key)s, 'live')
RETURNING id
"""
INSERT_JOB = (
    "INSERT INTO jobs (kind, debate_id, params) VALUES ('live', %(debate_id)s, %(params)s) RETURNING id"
)
SET_QUEUE_JOB = "UPDATE jobs SET queue_job_id = %(queue_job_id)s WHERE id = %(job_id)s"


async def check_live_source(request: LiveRequest, settings: Settings) -> None:
    """The ingest fetch policy applies to live sources: scheme, allowlist, private addresses."""
    try:
        await FetchPolicy.from_settings(settings).check_url(request.source_url)
    except SourceRefused as exc:
        raise SubmissionRefused("source_url", exc.message) from None


async def submit_live(queue: procrastinate.App, request: LiveRequest) -> Submitted:
    values: dict[str, Any] = {
        "title": request.title or "Séance en direct",
        "chamber": request.chamber or "AN",
        "body": request.body,
        "starts_at": request.starts_at,
        "source_url": request.source_url,
        "source_key": f"live:{uuid.uuid4()}",
    }
    async with queue.connector.pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(LOCK_SOURCE, values)
        active = await (await cursor.execute(ACTIVE_LIVE, values)).fetchone()
        if active is not None:
            return Submitted(job_id=active["id"], debate_id=active["debate_id"], created=False)
        debate = await (await cursor.execute(INSERT_DEBATE, values)).fetchone()
        assert debate is not None
        params = Jsonb(request.model_dump(mode="json", exclude_none=True))
        job = await (
            await cursor.execute(INSERT_JOB, {"debate_id": debate["id"], "params": params})
        ).fetchone()
        assert job is not None
        queue_job_id = (
            await queue.tasks[LIVE_TASK]
            .configure(lock=debate_lock(str(debate["id"])), connection=conn)
            .defer_async(job_id=str(job["id"]))
        )
        await cursor.execute(SET_QUEUE_JOB, {"queue_job_id": queue_job_id, "job_id": job["id"]})
    log.info("live submitted", extra={"job_id": str(job["id"]), "debate_id": str(debate["id"])})
    return Submitted(job_id=job["id"], debate_id=debate["id"], created=True)

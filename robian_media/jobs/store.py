"""Our ``jobs`` table as the worker keeps it in sync, and as the API reads it.

Every write of a running job is fenced by its attempt number: a worker that was presumed dead and
whose job was re-run elsewhere cannot overwrite the newer attempt's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from .models import Job

SELECT_JOB = """
SELECT id, kind, status, stage, progress, error, error_category, debate_id, created_at, updated_at
  FROM jobs WHERE id = $1
"""

START_ATTEMPT = """
UPDATE jobs
   SET status = 'running', stage = $3, progress = 0, error = NULL, error_category = NULL, playable = NULL,
       attempts = attempts + 1, updated_at = now()
 WHERE id = $1 AND kind = $2 AND status IN ('queued', 'running')
RETURNING id, debate_id, params, attempts
"""

# a debate being made: ``processing`` until its first version is published
MARK_DEBATE_PROCESSING = """
UPDATE debates SET status = 'processing', updated_at = now()
 WHERE id = $1 AND current_version IS NULL AND status <> 'processing'
"""

UPDATE_PROGRESS = """
UPDATE jobs SET stage = $2, progress = $3, updated_at = now()
 WHERE id = $1 AND status = 'running' AND attempts = $4
"""

SET_PLAYABLE = """
UPDATE jobs SET playable = $2, updated_at = now()
 WHERE id = $1 AND status = 'running' AND attempts = $3
"""

REQUEUE = """
UPDATE jobs SET status = 'queued', error = $2, error_category = $4, updated_at = now()
 WHERE id = $1 AND status = 'running' AND attempts = $3
"""

FAIL = """
UPDATE jobs SET status = 'failed', error = $2, error_category = $4, finished_at = now(), updated_at = now()
 WHERE id = $1 AND status = 'running' AND attempts = $3
RETURNING debate_id
"""

MARK_DEBATE_FAILED = """
UPDATE debates SET status = 'failed', updated_at = now()
 WHERE id = $1 AND current_version IS NULL
"""

SELECT_STATUS = "SELECT status, attempts FROM jobs WHERE id = $1"
# a job an operator cancelled after an attempt ran: its debate and the version published there
SELECT_CANCELLED_AFTER_ATTEMPT = """
SELECT d.id, d.current_version FROM jobs j JOIN debates d ON d.id = j.debate_id
 WHERE j.id = $1 AND j.status = 'cancelled' AND j.attempts > 0
"""
SELECT_CURRENT_VERSION = "SELECT current_version FROM debates WHERE id = $1"


@dataclass(frozen=True, slots=True)
class JobRun:
    """One attempt of a job, as the worker sees it."""

    job_id: str
    debate_id: str
    params: dict[str, Any]
    attempt: int


async def get_job(conn: asyncpg.Pool | asyncpg.Connection, job_id: UUID) -> Job | None:
    row = await conn.fetchrow(SELECT_JOB, job_id)
    return Job.model_validate(dict(row)) if row else None


async def start_attempt(
    pool: asyncpg.Pool, job_id: str, *, kind: str, stage: str, mark_debate: str
) -> JobRun | None:
    """Mark the job running (one more attempt, at ``stage``) and its debate by the statement
    ``mark_debate`` ($1: the debate id), together; None if it was cancelled or already finished."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(START_ATTEMPT, UUID(job_id), kind, stage)
        if row is None:
            return None
        await conn.execute(mark_debate, row["debate_id"])
    return JobRun(
        job_id=job_id, debate_id=str(row["debate_id"]), params=row["params"], attempt=row["attempts"]
    )


async def update_progress(pool: asyncpg.Pool, run: JobRun, stage: str, progress: float) -> None:
    await pool.execute(UPDATE_PROGRESS, UUID(run.job_id), stage, progress, run.attempt)


async def set_playable(pool: asyncpg.Pool, run: JobRun, version: int, variants: list[dict[str, Any]]) -> None:
    """Players can start on ``version`` while it is being made (until this attempt ends)."""
    playable = {"version": version, "variants": variants}
    await pool.execute(SET_PLAYABLE, UUID(run.job_id), playable, run.attempt)


async def requeue(pool: asyncpg.Pool, run: JobRun, error: str, category: str) -> None:
    await pool.execute(REQUEUE, UUID(run.job_id), error, run.attempt, category)


async def fail(pool: asyncpg.Pool, run: JobRun, error: str, category: str) -> bool:
    """Mark the attempt failed (and its debate, if never published); False if no longer ours.

    ``error`` is for the operator, ``category`` for everyone (jobs/errors.py)."""
    async with pool.acquire() as conn, conn.transaction():
        debate_id = await conn.fetchval(FAIL, UUID(run.job_id), error, run.attempt, category)
        if debate_id is None:
            return False
        await conn.execute(MARK_DEBATE_FAILED, debate_id)
    return True


async def is_cancelled(pool: asyncpg.Pool, run: JobRun) -> bool:
    row = await pool.fetchrow(SELECT_STATUS, UUID(run.job_id))
    return row is None or row["status"] == "cancelled"


async def cancelled_after_attempt(pool: asyncpg.Pool, job_id: str) -> tuple[str, int | None] | None:
    """(debate id, its current version) if an operator cancelled the job after an attempt ran."""
    row = await pool.fetchrow(SELECT_CANCELLED_AFTER_ATTEMPT, UUID(job_id))
    return None if row is None else (str(row["id"]), row["current_version"])


async def current_version(pool: asyncpg.Pool, debate_id: UUID) -> int | None:
    value = await pool.fetchval(SELECT_CURRENT_VERSION, debate_id)
    return int(value) if value is not None else None


LIVE_WORKERS = """
SELECT count(*) FROM procrastinate_workers
 WHERE last_heartbeat > now() - make_interval(secs => $1)
"""


async def live_workers(pool: asyncpg.Pool, stalled_after: float) -> int:
    """Workers (of any process) whose heartbeat is recent."""
    return int(await pool.fetchval(LIVE_WORKERS, stalled_after))

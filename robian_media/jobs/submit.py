"""Submitting and cancelling jobs of every kind: our rows and the queue's job change in one transaction.

These run on the job queue's own (psycopg) connection pool because procrastinate can defer and
cancel on a caller's connection: a job row never exists without its queue job, nor the reverse.
Each kind finds or creates its debate in the same transaction (ingest/submit.py, live/submit.py)
before :func:`enqueue` adds the job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import procrastinate
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb

from .queue import JobTask, debate_lock

INSERT_JOB = (
    "INSERT INTO jobs (kind, debate_id, params) VALUES (%(kind)s, %(debate_id)s, %(params)s) RETURNING id"
)
SET_QUEUE_JOB = "UPDATE jobs SET queue_job_id = %(queue_job_id)s WHERE id = %(job_id)s"

CANCEL_JOB = """
UPDATE jobs SET status = 'cancelled', error = 'Cancelled by an operator.',
       finished_at = now(), updated_at = now()
 WHERE id = %(job_id)s AND status IN ('queued', 'running')
RETURNING queue_job_id, debate_id, attempts
"""
# locked: no worker takes the queue job (procrastinate skips locked rows) until the cancel commits
QUEUE_JOB_WAITING = (
    "SELECT status = 'todo' AS waiting FROM procrastinate_jobs WHERE id = %(queue_job_id)s FOR UPDATE"
)
MARK_DEBATE_CANCELLED = """
UPDATE debates SET status = 'cancelled', updated_at = now()
 WHERE id = %(debate_id)s AND current_version IS NULL
"""
JOB_STATUS = "SELECT status FROM jobs WHERE id = %(job_id)s"


@dataclass(frozen=True, slots=True)
class Submitted:
    job_id: UUID
    debate_id: UUID
    created: bool  # False: the same source was already submitted, these are its ids


@dataclass(frozen=True, slots=True)
class Submission:
    """A transaction on the queue's connection: the debate's rows, then :meth:`enqueue`."""

    queue: procrastinate.App
    conn: AsyncConnection[Any]
    cursor: AsyncCursor[DictRow]

    async def enqueue(
        self, task: JobTask, debate_id: UUID, params: Mapping[str, Any], *, priority: int = 0
    ) -> UUID:
        """Our job row and its queue job; jobs of one debate never run at the same time."""
        values = {"kind": task.kind, "debate_id": debate_id, "params": Jsonb(params)}
        job = await (await self.cursor.execute(INSERT_JOB, values)).fetchone()
        assert job is not None
        queue_job_id = (
            await self.queue.tasks[task.name]
            .configure(lock=debate_lock(str(debate_id)), priority=priority, connection=self.conn)
            .defer_async(job_id=str(job["id"]))
        )
        await self.cursor.execute(SET_QUEUE_JOB, {"queue_job_id": queue_job_id, "job_id": job["id"]})
        job_id: UUID = job["id"]
        return job_id


@asynccontextmanager
async def submission(queue: procrastinate.App) -> AsyncIterator[Submission]:
    async with queue.connector.pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
        yield Submission(queue, conn, conn.cursor(row_factory=dict_row))


async def cancel_submitted_job(queue: procrastinate.App, job_id: UUID) -> tuple[str | None, UUID | None]:
    """Cancel a queued or running job; returns (status before, debate id), status None if unknown.

    A running job is asked to abort: its worker cancels the task, which stops yt-dlp/FFmpeg and
    removes what it wrote; the previous published version, if any, stays as it is. A queued job that
    already ran an attempt stays in the queue: that attempt's worker may have died before removing
    what it wrote, and its next run, finding the job cancelled, removes it (attempt.claim).
    """
    async with queue.connector.pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
        cursor = conn.cursor(row_factory=dict_row)
        row = await (await cursor.execute(CANCEL_JOB, {"job_id": job_id})).fetchone()
        if row is None:
            status = await (await cursor.execute(JOB_STATUS, {"job_id": job_id})).fetchone()
            return (status["status"] if status else None), None
        await cursor.execute(MARK_DEBATE_CANCELLED, {"debate_id": row["debate_id"]})
        queue_job_id = row["queue_job_id"]
        if queue_job_id is not None and not (row["attempts"] > 0 and await _waiting(cursor, queue_job_id)):
            await queue.job_manager.cancel_job_by_id_async(queue_job_id, abort=True, connection=conn)
    return "cancelled", row["debate_id"]


async def _waiting(cursor: AsyncCursor[DictRow], queue_job_id: int) -> bool:
    row = await (await cursor.execute(QUEUE_JOB_WAITING, {"queue_job_id": queue_job_id})).fetchone()
    return row is not None and bool(row["waiting"])

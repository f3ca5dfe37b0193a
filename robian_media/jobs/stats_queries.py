"""How much work waits and runs, read from the job queue's table and ours (for ``/metrics``)."""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

# ready to run now; a retry waiting for its backoff is "scheduled"
QUEUE_DEPTH = """
SELECT queue_name,
       count(*) FILTER (WHERE scheduled_at IS NULL OR scheduled_at <= now()) AS ready,
       count(*) FILTER (WHERE scheduled_at > now()) AS scheduled
FROM procrastinate_jobs
WHERE status = 'todo'
GROUP BY queue_name
"""
ACTIVE_JOBS = """
SELECT kind, status, count(*) AS jobs
FROM jobs
WHERE status IN ('queued', 'running')
GROUP BY kind, status
"""


class QueueDepth(NamedTuple):
    queue: str
    ready: int
    scheduled: int


class ActiveJobs(NamedTuple):
    kind: str
    status: str
    jobs: int


async def queue_depth(conn: asyncpg.Connection) -> list[QueueDepth]:
    return [
        QueueDepth(row["queue_name"], row["ready"], row["scheduled"]) for row in await conn.fetch(QUEUE_DEPTH)
    ]


async def active_jobs(conn: asyncpg.Connection) -> list[ActiveJobs]:
    return [ActiveJobs(row["kind"], row["status"], row["jobs"]) for row in await conn.fetch(ACTIVE_JOBS)]

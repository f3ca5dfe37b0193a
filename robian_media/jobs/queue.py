"""The job queue: a procrastinate App on our PostgreSQL, the tasks it runs and their retry policy.

procrastinate (PostgreSQL-backed: durable jobs, LISTEN/NOTIFY wake-ups, locks, retries, abort
requests, worker heartbeats) is created per process from the DSN by :func:`create_job_queue`;
tasks are registered on each App rather than on a module-level one so nothing global is mutated.
Each feature declares its kind of job as a :class:`JobTask` (``ingest.task.INGEST``,
``live.task.LIVE``); the composition root hands them to :func:`create_job_queue`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import procrastinate
from aiohttp import web
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job as QueueJob
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from ..db.unavailable import CONNECT_TIMEOUT_S
from ..settings import Settings
from ..web import keys
from .errors import PermanentError


@dataclass(frozen=True, slots=True)
class JobTask:
    """A kind of job: what our ``jobs`` rows call it, the task the queue stores, the function that runs it."""

    kind: str  # jobs.kind, and the name of the queue its jobs wait in
    name: str  # stored with every queued job: renaming it strands the jobs already queued
    run: Callable[[JobContext, str], Awaitable[None]]

    @property
    def queue(self) -> str:
        return self.kind


def debate_lock(debate_id: str) -> str:
    """procrastinate lock: jobs of one debate never run at the same time."""
    return f"debate:{debate_id}"


class IngestRetryStrategy(BaseRetryStrategy):
    """Exponential backoff for transient failures; none for permanent ones.

    A job cancelled because its worker is stopping is re-queued at once (and does not count as a
    failure); a job an operator cancelled ends as ``JobAborted`` and never reaches this strategy.
    """

    def __init__(self, *, max_attempts: int, base_seconds: float, max_seconds: float) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds

    def wait_seconds(self, attempts: int) -> float:
        return float(min(self.max_seconds, self.base_seconds * 2**attempts))

    def get_retry_decision(self, *, exception: BaseException, job: QueueJob) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_at=datetime.now(UTC))
        if isinstance(exception, PermanentError) or job.attempts + 1 >= self.max_attempts:
            return None
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=self.wait_seconds(job.attempts)))


def retry_strategy(settings: Settings) -> IngestRetryStrategy:
    return IngestRetryStrategy(
        max_attempts=settings.job_max_attempts,
        base_seconds=settings.job_retry_base_seconds,
        max_seconds=settings.job_retry_max_seconds,
    )


def create_job_queue(
    dsn: str, settings: Settings, tasks: Iterable[JobTask], *, max_connections: int = 6
) -> procrastinate.App:
    """libpq takes our DSNs as they are: TCP URLs and pgserver's ``…?host=/socket/dir`` URIs."""
    connector = procrastinate.PsycopgConnector(
        conninfo=dsn,
        min_size=1,
        max_size=max_connections,
        # while PostgreSQL is down, submitting fails fast (503) instead of waiting 30 s for a connection
        timeout=CONNECT_TIMEOUT_S,
        kwargs={"application_name": "robian-media", "connect_timeout": int(CONNECT_TIMEOUT_S)},
    )
    app = procrastinate.App(connector=connector)
    for task in tasks:
        # every kind retries alike: a worker stopping re-queues at once, transient failures back off
        app.task(name=task.name, queue=task.queue, pass_context=True, retry=retry_strategy(settings))(
            task.run
        )
    return app


@asynccontextmanager
async def opened(queue: procrastinate.App) -> AsyncIterator[procrastinate.App]:
    """The queue's connection pool open for the block, and closed also when its opening is interrupted
    (a stop during start-up, while the pool connects): left open, the pool's connecting tasks are
    cancelled only when the event loop ends, and one that takes that cancel for a failed connection
    waits for work forever, so the process never exits."""
    try:
        await queue.open_async()
    except BaseException:
        await queue.close_async()
        raise
    try:
        yield queue
    finally:
        await queue.close_async()


async def job_queue_ctx(app: web.Application) -> AsyncIterator[None]:
    """The job queue of this process (deferring, cancelling; the in-process worker runs on it too)."""
    tasks: tuple[JobTask, ...] = app[keys.JOB_TASKS]
    queue = create_job_queue(app[keys.DATABASE_DSN], app[keys.SETTINGS], tasks)
    async with opened(queue):
        app[keys.JOB_QUEUE] = queue
        yield

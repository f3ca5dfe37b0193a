"""Running workers: in ``robian-media worker`` processes and inside ``serve`` (embedded defaults).

Besides procrastinate's worker, each worker process runs a sweeper: jobs left ``doing`` by a worker
whose heartbeat stopped (killed, machine lost) are handed back to the queue, so another worker
re-runs them. Re-running is safe: the packager never reuses a version number and publishing is
fenced by the job's attempt number, so a sitting is published once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import asyncpg
import procrastinate
from aiohttp import web
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Job as QueueJob
from procrastinate.worker import Worker

from packager.versions import recover_all

from ..db.unavailable import database_unavailable
from ..ops.background import cancel_and_wait, raise_if_cancelling
from ..settings import Settings
from ..web import keys
from .attempt import remove_left_versions
from .metrics import JobMetrics
from .resources import CONTEXT_KEY, WorkerResources

log = logging.getLogger(__name__)

# a worker stopped by a database outage is started again after 1, 2, 4… up to 30 s
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0


# the stalled job still holds its debate (procrastinate's lock) while this transaction holds its row
LOCK_STALLED_JOB = "SELECT status = 'doing' FROM procrastinate_jobs WHERE id = $1 FOR UPDATE"


async def requeue_stalled_jobs(
    queue: procrastinate.App,
    settings: Settings,
    *,
    own: int | None = None,
    resources: WorkerResources | None = None,
) -> int:
    """Give jobs of workers silent for ``stalled_worker_seconds`` back to the queue; returns how many.

    ``own`` is the calling process' worker: it is alive (it is running this), whatever its heartbeat
    row says after a stall of its event loop, so its jobs are left alone. With ``resources``, a job an
    operator cancelled meanwhile (the queue ends it rather than running it again) first loses what its
    dead attempt put in the media store.
    """
    stalled = await queue.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.stalled_worker_seconds
    )
    requeued = 0
    for job in stalled:
        if own is not None and job.worker_id == own:
            continue
        if resources is not None:
            await remove_stalled_versions(resources, job)
        try:
            await queue.job_manager.retry_job(job)
        except ConnectorException:
            raise_if_cancelling()
            continue  # another worker's sweeper took it first
        requeued += 1
        log.warning("stalled job re-queued", extra={"queue_job_id": job.id, "worker_id": job.worker_id})
    return requeued


async def remove_stalled_versions(resources: WorkerResources, job: QueueJob) -> None:
    """What a dead attempt of ``job`` left, if its job was cancelled, while no other job of the debate
    can start (``job`` is still running as far as the queue knows; another sweeper waits for the row)."""
    assert job.id is not None
    try:
        async with resources.pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(LOCK_STALLED_JOB, job.id):
                await remove_left_versions(resources, str(job.task_kwargs["job_id"]))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        raise_if_cancelling()
        log.warning("stalled job's versions not checked", extra={"queue_job_id": job.id}, exc_info=True)


async def sweep_stalled_jobs(queue: procrastinate.App, resources: WorkerResources, worker: Worker) -> None:
    settings = resources.settings
    interval = max(0.5, min(settings.worker_heartbeat_seconds, settings.stalled_worker_seconds / 2))
    while True:
        try:
            await requeue_stalled_jobs(queue, settings, own=worker.worker_id, resources=resources)
        except (ConnectorException, OSError):
            raise_if_cancelling()
            log.warning("stalled-job sweep failed", exc_info=True)
        # a cancel may also be swallowed whole, the query returning as if nothing happened
        raise_if_cancelling()
        await asyncio.sleep(interval)


async def run_worker(
    queue: procrastinate.App,
    resources: WorkerResources,
    *,
    concurrency: int,
    name: str = "robian-worker",
    install_signal_handlers: bool = False,
    queues: Sequence[str],
) -> None:
    """Run jobs until cancelled (or stopped by a signal when ``install_signal_handlers``).

    procrastinate's worker stops as soon as one of its queries meets a database that is down (a
    heartbeat, a poll): here it is started again, with backoff, once PostgreSQL answers, so an
    outage never leaves ``serve`` without its worker or a ``worker`` process exited. Jobs the stopped
    worker held are re-queued by the sweeper when its heartbeat is old enough.
    """
    settings = resources.settings
    # versions left half-made by a killed packager (a job cancelled since, never re-run) are removed
    # and their debate masters pointed back at the newest complete version
    await asyncio.to_thread(recover_all, settings.media_root)
    delay = RESTART_MIN_S
    while True:
        worker = Worker(
            queue,
            queues=list(queues),
            name=name,
            concurrency=concurrency,
            additional_context={CONTEXT_KEY: resources},
            install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=settings.worker_heartbeat_seconds,
            stalled_worker_timeout=settings.stalled_worker_seconds,
            shutdown_graceful_timeout=settings.worker_shutdown_grace_seconds,
            fetch_job_polling_interval=settings.worker_poll_seconds,
            delete_jobs="successful",
        )
        sweeper = asyncio.create_task(
            sweep_stalled_jobs(queue, resources, worker), name="stalled-job sweeper"
        )
        started = asyncio.get_running_loop().time()
        try:
            await worker.run()
            return
        except Exception as exc:
            raise_if_cancelling()
            if not database_unavailable(exc):
                raise
            if asyncio.get_running_loop().time() - started > RESTART_MAX_S:
                delay = RESTART_MIN_S  # it had been running well: this is a new outage
            log.warning(
                "worker stopped: the database is unavailable; restarting", extra={"retry_in_s": delay}
            )
        finally:
            await cancel_and_wait(sweeper)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RESTART_MAX_S)


def _log_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("in-process worker stopped", exc_info=task.exception())


async def in_process_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """``serve``'s own worker when ROBIAN_WORKERS (unset: 2 on embedded defaults) is above 0."""
    settings = app[keys.SETTINGS]
    if settings.worker_count == 0:
        yield
        return
    resources = WorkerResources(
        settings=settings,
        pool=app[keys.DB_POOL],
        bus=app[keys.EVENT_BUS],
        cache=app[keys.CACHE],
        ffmpeg=app[keys.FFMPEG],
        store=app[keys.MEDIA_STORE],
        metrics=JobMetrics(app[keys.METRICS_REGISTRY]),
        clips=app[keys.CLIP_STORE],
    )
    task = asyncio.create_task(
        run_worker(
            app[keys.JOB_QUEUE],
            resources,
            concurrency=settings.worker_count,
            name="serve-worker",
            queues=[task.queue for task in app[keys.JOB_TASKS]],
        ),
        name="in-process worker",
    )
    task.add_done_callback(_log_end)
    try:
        yield
    finally:
        await cancel_and_wait(task)

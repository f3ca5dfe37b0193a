"""The procrastinate task behind an ingest job, keeping our ``jobs`` row in step with the queue.

Outcomes, as the queue and the API see them:
- success → row ``succeeded`` (written in the publish transaction), queue job succeeded;
- transient failure → row back to ``queued`` with the error, queue retries later (backoff);
- permanent failure or attempts exhausted → row ``failed``, queue job failed;
- operator cancel (DELETE) → the API marked the row ``cancelled`` and asked the queue to abort:
  the running task is cancelled, stops yt-dlp/FFmpeg, removes partial files, ends ``aborted``;
  after an attempt whose worker died, the next run (or the sweeper) removes what that attempt left
  (jobs/attempt.remove_left_versions);
- worker stopping → the task is cancelled, cleans up, the row goes back to ``queued`` and the queue
  re-runs it at once on another worker (or this one after a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from procrastinate.exceptions import JobAborted
from procrastinate.job_context import JobContext

from packager.vod import PackageResult

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import (
    publish_debate_updated,
    publish_job_failed,
    publish_job_retrying,
    publish_version_published,
)
from ..jobs import store
from ..jobs.attempt import (
    WORKER_RESTARTED,
    cancelled_by_operator,
    claim,
    failure_category,
    failure_message,
    worker_resources,
)
from ..jobs.errors import IngestError, TransientError
from ..jobs.progress import ProgressReporter
from ..jobs.publish import NotOwner
from ..jobs.queue import JobTask
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from .attach_pipeline import run_attach
from .intervention_clips import make_intervention_clips
from .pipeline import run_ingest

Pipeline = Callable[[JobRun, WorkerResources, ProgressReporter, Path], Awaitable[PackageResult]]

log = logging.getLogger(__name__)


def _retry_in(context: JobContext, exc: BaseException) -> float | None:
    """Seconds until the queue retries this job after ``exc``, or None if it will not."""
    decision = context.task.retry_strategy.get_retry_decision(exception=exc, job=context.job)  # type: ignore[union-attr]
    if decision is None:
        return None
    assert decision.retry_at is not None
    return max(0.0, (decision.retry_at - decision.retry_at.now(decision.retry_at.tzinfo)).total_seconds())


async def _failed(res: WorkerResources, context: JobContext, run: JobRun, exc: BaseException) -> None:
    message, category = failure_message(exc), failure_category(exc)
    retry_in = _retry_in(context, exc)
    res.metrics.attempts.labels("retried" if retry_in is not None else "failed").inc()
    if retry_in is not None:
        await store.requeue(res.pool, run, f"{message} (retrying in {retry_in:.0f} s)", category)
        # events go to anyone listening on jobs / job:{id}: the category, never the details
        await publish_job_retrying(res.bus, run.job_id, category, retry_in)
        log.warning("ingest attempt failed, will retry", extra={"job_id": run.job_id, "error": message})
        return
    if await store.fail(res.pool, run, message, category):
        await invalidate_debate_caches(res.cache, run.debate_id)
        await publish_job_failed(res.bus, run.job_id, run.debate_id, category)
    log.warning("ingest failed", extra={"job_id": run.job_id, "error": message})


async def _attempt(
    res: WorkerResources, context: JobContext, run: JobRun, pipeline: Pipeline, *, update: bool = False
) -> None:
    """One attempt through ``pipeline``; ``update`` also announces ``debate.updated`` (a new version of a
    debate that was already published)."""
    work_dir = res.settings.work_dir / run.job_id / f"a{run.attempt}"
    res.metrics.running.inc()
    try:
        async with ProgressReporter(res.pool, res.bus, run) as progress:
            result = await pipeline(run, res, progress, work_dir)
    except asyncio.CancelledError:
        if await cancelled_by_operator(context, res, run):
            log.info("ingest cancelled", extra={"job_id": run.job_id})
            res.metrics.attempts.labels("cancelled").inc()
            # the operator's cancel is the outcome, not a failure to retry
            raise JobAborted() from None
        await store.requeue(res.pool, run, "The worker stopped; the job is queued again.", WORKER_RESTARTED)
        res.metrics.attempts.labels("requeued").inc()
        raise
    except NotOwner as exc:
        log.info("ingest result not published", extra={"job_id": run.job_id, "reason": str(exc)})
        return
    except IngestError as exc:
        await _failed(res, context, run, exc)
        raise
    except Exception as exc:
        # an unexpected failure (a bug, the database gone): treated as transient, attempts are bounded
        log.exception("ingest attempt crashed", extra={"job_id": run.job_id})
        await _failed(res, context, run, exc)
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        # this attempt's files only: after a database outage another attempt of the same job may
        # be running beside this one (its worker's heartbeat looked stale), in the next directory
        await asyncio.to_thread(shutil.rmtree, work_dir, True)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(work_dir.parent.rmdir)  # the job's directory, once empty
        res.metrics.running.dec()
    res.metrics.attempts.labels("succeeded").inc()
    res.metrics.packaged(result.duration, result.timings.get("total", 0.0))
    master_url = res.master_url(run.debate_id)
    await invalidate_debate_caches(res.cache, run.debate_id)
    await publish_version_published(
        res.bus,
        run.job_id,
        run.debate_id,
        version=result.version,
        duration=result.duration,
        master_url=master_url,
    )
    if update:
        await publish_debate_updated(res.bus, run.debate_id, version=result.version, master_url=master_url)
    log.info("ingest published", extra={"job_id": run.job_id, "version": result.version})
    # the speakers' feeds: each intervention as its own file, then the feeds rebuilt with their lengths
    made = await make_intervention_clips(
        res,
        run.debate_id,
        version=result.version,
        duration=result.duration,
        variants=result.variants,
        chapters=result.chapters,
    )
    if made:
        await invalidate_debate_caches(res.cache, run.debate_id)


async def ingest_task(context: JobContext, job_id: str) -> None:
    res = worker_resources(context)
    run = await claim(res, INGEST, job_id, stage="fetching", mark_debate=store.MARK_DEBATE_PROCESSING)
    if run is not None:
        await _attempt(res, context, run, run_ingest)


async def attach_task(context: JobContext, job_id: str) -> None:
    """A compte rendu attached to a published debate: its new version re-cut, no encode."""
    res = worker_resources(context)
    run = await claim(
        res, ATTACH_COMPTE_RENDU, job_id, stage="fetching", mark_debate=store.MARK_DEBATE_PROCESSING
    )
    if run is not None:
        await _attempt(res, context, run, run_attach, update=True)


INGEST = JobTask(kind="ingest", name="robian.ingest", run=ingest_task)
ATTACH_COMPTE_RENDU = JobTask(kind="compte_rendu", name="robian.attach_compte_rendu", run=attach_task)

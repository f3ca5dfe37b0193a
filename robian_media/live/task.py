"""The procrastinate task behind a live job: the worker that runs it owns the recording.

Outcomes: stopped by an operator or the source ending → the recording is published as the VOD
debate, job ``succeeded``; operator cancel (DELETE /jobs/{id}) → aborted, recording removed; worker
stopping or dying → the job goes back to the queue and another worker takes it up, resuming the same
version after a marked gap (from the media root, or from the bucket with the s3 store); a failure →
``failed`` (or retried, when transient).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from procrastinate.exceptions import JobAborted
from procrastinate.job_context import JobContext

from packager.versions import DebateBusyError, withdraw_live

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import publish_job_failed
from ..jobs import store as job_store
from ..jobs.attempt import (
    WORKER_RESTARTED,
    cancelled_by_operator,
    claim,
    failure_category,
    failure_message,
    worker_resources,
)
from ..jobs.errors import IngestError, TransientError
from ..jobs.publish import NotOwner
from ..jobs.queue import JobTask
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..ops.background import complete_despite_cancel
from . import store
from .session import LiveSession

log = logging.getLogger(__name__)


async def live_task(context: JobContext, job_id: str) -> None:
    res = worker_resources(context)
    run = await claim(res, LIVE, job_id, stage="packaging", mark_debate=store.MARK_DEBATE_LIVE)
    if run is None:
        return
    log.info("live job started", extra={"job_id": job_id, "attempt": run.attempt})
    session = LiveSession(res, run)
    try:
        await session.record()
    except asyncio.CancelledError:
        if await cancelled_by_operator(context, res, run):
            await _withdrawn(res, run, "cancelled", session)
            raise JobAborted() from None
        # the recording stays (files or objects, and stream): the next attempt resumes it after a marked gap
        await job_store.requeue(
            res.pool, run, "The worker stopped; the live job is queued again.", WORKER_RESTARTED
        )
        raise
    except NotOwner as exc:
        log.info("live recording not published", extra={"job_id": job_id, "reason": str(exc)})
        if await job_store.is_cancelled(res.pool, run):
            await _withdrawn(res, run, "cancelled", session)
    except Exception as exc:
        message, category = failure_message(exc), failure_category(exc)
        log.warning("live job failed", extra={"job_id": job_id, "error": message}, exc_info=True)
        if await job_store.fail(res.pool, run, message, category):
            await _withdrawn(res, run, "failed")
            await publish_job_failed(res.bus, run.job_id, run.debate_id, category)
        if isinstance(exc, IngestError):
            raise
        raise TransientError(message) from exc


LIVE = JobTask(kind="live", name="robian.live", run=live_task)


async def _withdrawn(
    res: WorkerResources, run: JobRun, status: str, session: LiveSession | None = None
) -> None:
    """The recording is withdrawn: its files (or what ``session`` left in the store), and the debate's
    live stream."""
    if session is not None:
        await complete_despite_cancel(session.withdraw())
    debate_dir = res.settings.media_root / run.debate_id
    with contextlib.suppress(DebateBusyError):  # another attempt records: it withdraws its own
        await complete_despite_cancel(asyncio.to_thread(withdraw_live, debate_dir))
    await complete_despite_cancel(store.withdraw_stream(res.pool, run.debate_id, status))
    await invalidate_debate_caches(res.cache, run.debate_id)

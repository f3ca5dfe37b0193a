"""What every kind of job does around its own work (ingest/task.py, live/task.py): claim its row for
this attempt, tell an operator's cancel from a worker stopping, and word a failure for the operator."""

from __future__ import annotations

import logging
from typing import cast

from procrastinate.job_context import AbortReason, JobContext

from ..media.store import MediaStoreError
from . import store
from .errors import IngestError
from .queue import JobTask
from .resources import CONTEXT_KEY, WorkerResources
from .store import JobRun

log = logging.getLogger(__name__)


def worker_resources(context: JobContext) -> WorkerResources:
    return cast(WorkerResources, context.additional_context[CONTEXT_KEY])


async def claim(
    res: WorkerResources, task: JobTask, job_id: str, *, stage: str, mark_debate: str
) -> JobRun | None:
    """This attempt's run of the job, or None (logged) when the job was cancelled or already ended."""
    run = await store.start_attempt(res.pool, job_id, kind=task.kind, stage=stage, mark_debate=mark_debate)
    if run is None:
        log.info("%s job no longer active", task.kind, extra={"job_id": job_id})
        await remove_left_versions(res, job_id)
    return run


async def remove_left_versions(res: WorkerResources, job_id: str) -> None:
    """If an operator cancelled the job after an attempt ran, what that attempt left in the store goes:
    its worker may have died before removing it. Called only while the job holds its debate's lock
    (its own run: submit.cancel_submitted_job leaves such a job in the queue; or the sweeper, before
    ending it), so no other job of the debate is writing a version meanwhile."""
    cancelled = await store.cancelled_after_attempt(res.pool, job_id)
    if cancelled is None:
        return
    debate_id, published = cancelled
    try:
        removed = await res.store.remove_unpublished(debate_id, published)
    except (MediaStoreError, OSError) as exc:
        log.warning(
            "unpublished versions left in the media store", extra={"job_id": job_id, "error": str(exc)}
        )
        return
    if removed:
        log.info("unpublished versions removed", extra={"job_id": job_id, "versions": removed})


async def cancelled_by_operator(context: JobContext, res: WorkerResources, run: JobRun) -> bool:
    """Why a task was cancelled: an operator (an abort request, or the row cancelled meanwhile), or
    else its worker stopping, and the job must go back to the queue."""
    return context.abort_reason() == AbortReason.USER_REQUEST or await store.is_cancelled(res.pool, run)


INTERNAL_ERROR = "internal error"
WORKER_RESTARTED = "worker restarted"


def failure_category(exc: BaseException) -> str:
    """What the public is told: the kind of failure, never its details."""
    return exc.category if isinstance(exc, IngestError) else INTERNAL_ERROR


def failure_message(exc: BaseException) -> str:
    """What ``GET /api/v1/jobs/{id}`` shows: our errors as written, anything else named as internal."""
    return exc.message if isinstance(exc, IngestError) else f"Internal error: {type(exc).__name__}: {exc}"

"""What every kind of job does around its own work (ingest/task.py, live/task.py): claim its row for
this attempt, tell an operator's cancel from a worker stopping, and word a failure for the operator."""

from __future__ import annotations

import logging
from typing import cast

from procrastinate.job_context import AbortReason, JobContext

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
    return run


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

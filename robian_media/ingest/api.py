"""Ingest and jobs routes (docs/architecture.md §4): submit a source, follow its job, cancel it."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import publish_job_cancelled
from ..jobs import store
from ..jobs.models import Job
from ..jobs.submit import Submitted, cancel_submitted_job
from ..web import keys
from ..web.errors import Conflict, NotFound, ValidationFailed
from ..web.openapi import is_admin, operation
from ..web.path_params import uuid_param
from .models import IngestAccepted, IngestRequest
from .submit import SubmissionRefused, check_submission, submit_ingest


async def submit(request: web.Request, body: IngestRequest, *, priority: int = 0) -> Submitted:
    """Check and submit an ingest; shared with the legacy extraction route."""
    try:
        location = await check_submission(body, request.app[keys.SETTINGS])
    except SubmissionRefused as exc:
        raise ValidationFailed(
            f"This source cannot be ingested: {exc.message}",
            errors=[{"location": f"body.{exc.field}", "message": exc.message, "type": "source_refused"}],
        ) from None
    return await submit_ingest(request.app[keys.JOB_QUEUE], body, location, priority=priority)


async def load_job(request: web.Request, job_id: UUID) -> Job:
    """The job; its error in full only for the admin token, else its category (jobs/errors.py)."""
    job = await store.get_job(request.app[keys.DB_POOL], job_id)
    if job is None:
        raise NotFound("No job with this id.")
    return job if is_admin(request) else job.for_public()


@operation(
    summary="Ingest a source (URL, AN portal video, local file) into a published debate",
    tags=["ingest"],
    body=IngestRequest,
    response=IngestAccepted,
    status=202,
    admin=True,
    responses={200: "This source was already submitted: its job and debate"},
)
async def ingest(request: web.Request, *, body: IngestRequest) -> web.Response:
    submitted = await submit(request, body)
    accepted = IngestAccepted(job_id=submitted.job_id, debate_id=submitted.debate_id)
    return web.json_response(accepted.model_dump(mode="json"), status=202 if submitted.created else 200)


@operation(summary="A job's status, stage and progress", tags=["jobs"], response=Job)
async def get_job(request: web.Request) -> web.Response:
    job = await load_job(request, uuid_param(request, "job_id", "job"))
    return web.json_response(job.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@operation(
    summary="Cancel a job: yt-dlp/FFmpeg stopped, partial output removed",
    tags=["jobs"],
    response=Job,
    admin=True,
    responses={409: "The job already ended"},
)
async def cancel_job(request: web.Request) -> web.Response:
    job_id = uuid_param(request, "job_id", "job")
    status, debate_id = await cancel_submitted_job(request.app[keys.JOB_QUEUE], job_id)
    if status is None:
        raise NotFound("No job with this id.")
    if status in ("succeeded", "failed"):
        raise Conflict(f"The job already {status}; there is nothing to cancel.")
    if debate_id is not None:
        await invalidate_debate_caches(request.app[keys.CACHE], str(debate_id))
        await publish_job_cancelled(request.app[keys.EVENT_BUS], job_id, debate_id)
    job = await load_job(request, job_id)
    return web.json_response(job.model_dump(mode="json"))

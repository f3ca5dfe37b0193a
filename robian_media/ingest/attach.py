"""``POST /api/v1/debates/{debate_id}/compte-rendu`` (admin, DESIGN §8): a compte rendu arriving after
the sitting becomes a job that publishes a new version with its chapters and words, re-cut, no encode."""

from __future__ import annotations

import logging
from uuid import UUID

import procrastinate
from aiohttp import web
from psycopg.errors import UniqueViolation

from ..jobs.errors import SourceRefused
from ..jobs.submit import Submitted, submission
from ..settings import Settings
from ..web import keys
from ..web.errors import Conflict, NotFound, ValidationFailed
from ..web.openapi import operation
from ..web.path_params import uuid_param
from .attach_models import CompteRenduAccepted, CompteRenduRequest
from .sources.fetch_policy import FetchPolicy
from .task import ATTACH_COMPTE_RENDU

log = logging.getLogger(__name__)

LOCK_DEBATE = "SELECT id FROM debates WHERE id = %(debate_id)s FOR UPDATE"


async def check_compte_rendu(request: CompteRenduRequest, settings: Settings) -> None:
    """The compte rendu's URL passes the ingest fetch policy (a fast 422), before any job exists."""
    if request.compte_rendu_url:
        try:
            await FetchPolicy.from_settings(settings).check_url(request.compte_rendu_url)
        except SourceRefused as exc:
            raise ValidationFailed(
                f"This compte rendu cannot be fetched: {exc.message}",
                errors=[
                    {"location": "body.compte_rendu_url", "message": exc.message, "type": "source_refused"}
                ],
            ) from None


async def submit_compte_rendu(
    queue: procrastinate.App, debate_id: UUID, request: CompteRenduRequest
) -> Submitted | None:
    """The job, queued behind the debate's other jobs (a sitting still packaging is waited for);
    None when there is no such debate."""
    async with submission(queue) as sub:
        found = await (await sub.cursor.execute(LOCK_DEBATE, {"debate_id": debate_id})).fetchone()
        if found is None:
            return None
        params = request.model_dump(mode="json", exclude_none=True)
        try:
            job_id = await sub.enqueue(ATTACH_COMPTE_RENDU, debate_id, params)
        except UniqueViolation:
            raise Conflict(
                "A compte rendu is already being attached to this debate; wait for its job."
            ) from None
    log.info("compte rendu submitted", extra={"job_id": str(job_id), "debate_id": str(debate_id)})
    return Submitted(job_id=job_id, debate_id=debate_id, created=True)


@operation(
    summary="Attach a compte rendu (or words and chapters) to a debate: a new version, re-cut, no encode",
    tags=["ingest"],
    body=CompteRenduRequest,
    response=CompteRenduAccepted,
    status=202,
    admin=True,
    responses={404: "No debate with this id", 409: "A compte rendu is already being attached"},
)
async def attach_compte_rendu(request: web.Request, *, body: CompteRenduRequest) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")
    await check_compte_rendu(body, request.app[keys.SETTINGS])
    submitted = await submit_compte_rendu(request.app[keys.JOB_QUEUE], debate_id, body)
    if submitted is None:
        raise NotFound("No debate with this id.")
    accepted = CompteRenduAccepted(job_id=submitted.job_id, debate_id=submitted.debate_id)
    return web.json_response(accepted.model_dump(mode="json"), status=202)

"""Live routes (docs/architecture.md §4): start a live sitting, name the speaker, stop it."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import publish_job_cancelled, publish_live_speaker
from ..jobs.submit import cancel_submitted_job
from ..web import keys
from ..web.errors import Conflict, ValidationFailed
from ..web.openapi import operation
from ..web.path_params import uuid_param
from .control import NotLive, add_speaker, request_stop
from .models import LiveAccepted, LiveRequest, LiveStopAccepted, SpeakerAccepted, SpeakerChange
from .submit import LiveSourceUnusable, check_live_source, submit_live


def not_live(debate_id: UUID) -> Conflict:
    return Conflict(f"Debate {debate_id} is not being recorded live (no live job is queued or running).")


@operation(
    summary="Start a live sitting from a live HLS source (a playlist, or a page showing one)",
    tags=["live"],
    body=LiveRequest,
    response=LiveAccepted,
    status=202,
    admin=True,
    responses={200: "This source is already live: its debate and job"},
    description=(
        "A worker reads the source and publishes the live ladder (LL-HLS parts, PROGRAM-DATE-TIME on "
        "every segment) at the debate's master URL; `GET /api/v1/debates/{debate_id}/stream` then shows "
        "it with `live: true`. Events `live.started`, `live.speaker`, `live.ended` go on `live:{id}` and "
        "`debate:{id}`. A page (AN portal `direct.<uid>`, or any page yt-dlp finds a live HLS stream in) "
        "is resolved to its playlist now: a page without a live stream is a 422."
    ),
)
async def start_live(request: web.Request, *, body: LiveRequest) -> web.Response:
    try:
        found = await check_live_source(body, request.app[keys.SETTINGS])
    except LiveSourceUnusable as exc:
        raise ValidationFailed(
            f"This live source cannot be used: {exc.message}",
            errors=[{"location": "body.source_url", "message": exc.message, "type": exc.kind}],
        ) from None
    submitted = await submit_live(request.app[keys.JOB_QUEUE], body, found)
    accepted = LiveAccepted(debate_id=submitted.debate_id, job_id=submitted.job_id)
    return web.json_response(accepted.model_dump(mode="json"), status=202 if submitted.created else 200)


@operation(
    summary="The speaker now speaking: a chapter, a DATERANGE in every rung, a live.speaker event",
    tags=["live"],
    body=SpeakerChange,
    response=SpeakerAccepted,
    status=202,
    admin=True,
    responses={409: "The debate is not live"},
)
async def change_speaker(request: web.Request, *, body: SpeakerChange) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "live sitting")
    try:
        index, at = await add_speaker(request.app[keys.DB_POOL], debate_id, body)
    except NotLive:
        raise not_live(debate_id) from None
    speaker = body.speaker.model_dump(mode="json")
    await publish_live_speaker(request.app[keys.EVENT_BUS], debate_id, speaker, at, index=index)
    await invalidate_debate_caches(request.app[keys.CACHE], str(debate_id))
    accepted = SpeakerAccepted(debate_id=debate_id, index=index, at=at, speaker=body.speaker)
    return web.json_response(accepted.model_dump(mode="json"), status=202)


@operation(
    summary="Stop a live sitting: ENDLIST, then the recording becomes the VOD debate",
    tags=["live"],
    response=LiveStopAccepted,
    status=202,
    admin=True,
    responses={409: "The debate is not live"},
)
async def stop_live(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "live sitting")
    try:
        job = await request_stop(request.app[keys.DB_POOL], debate_id)
    except NotLive:
        raise not_live(debate_id) from None
    status = "stopping"
    if job.status == "queued" and not job.recording:
        # never started: nothing to publish
        await cancel_submitted_job(request.app[keys.JOB_QUEUE], job.job_id)
        await invalidate_debate_caches(request.app[keys.CACHE], str(debate_id))
        await publish_job_cancelled(request.app[keys.EVENT_BUS], job.job_id, debate_id)
        status = "cancelled"
    accepted = LiveStopAccepted(debate_id=debate_id, job_id=job.job_id, status=status)
    return web.json_response(accepted.model_dump(mode="json"), status=202)

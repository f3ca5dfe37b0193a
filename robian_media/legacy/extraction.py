"""The old mobile client's extraction routes, answered by ingest and jobs.

The old API took ``{"url", "priority": "normal"|"urgent"|"high"|"low"}`` and answered
``{"success", "message", "data": {"extraction_id", "status": "started", "url"}}``; its status
route said ``processing`` (with a ``message`` sentence) or ``completed`` with a ``file_url``. The
same shapes are kept; the extraction id is the job id. Unlike the old server, submitting takes the
admin token: ingest makes this server fetch URLs, which an anonymous client must not be able to ask
for.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..ingest.api import load_job, submit
from ..ingest.models import IngestRequest
from ..jobs import store
from ..media.urls import download_file, legacy_file, media_urls
from ..web import keys
from ..web.openapi import operation
from ..web.path_params import uuid_param

LEGACY_STATUS = {
    "queued": "processing",
    "running": "processing",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}
# the old client's priorities (it sent any string; these are the ones seen) onto the queue's
LEGACY_PRIORITIES = {"low": -10, "normal": 0, "high": 10, "urgent": 10}
# the old backend always said something in `message`
LEGACY_MESSAGES = {
    "processing": "Extraction en cours",
    "completed": "Extraction terminée",
    "failed": "Extraction échouée",
    "cancelled": "Extraction annulée",
}


class LegacyExtractionRequest(IngestRequest):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source_url: str = Field("", max_length=4096)
    url: str | None = Field(None, max_length=4096, description="the old client's name for source_url")
    priority: Literal["low", "normal", "high", "urgent"] = "normal"

    @model_validator(mode="after")
    def _one_url(self) -> LegacyExtractionRequest:
        self.source_url = self.source_url or self.url or ""
        if not self.source_url:
            raise ValueError("url (or source_url) is required")
        return self


class LegacyExtractionAccepted(BaseModel):
    success: bool
    message: str
    data: dict[str, Any]


class LegacyExtractionStatus(BaseModel):
    extraction_id: str
    status: str
    stage: str | None
    progress: float
    debate_id: str | None
    message: str
    file_url: str | None = None
    stream_url: str | None = None
    file_size: int | None = None


@operation(
    summary="Legacy: start an extraction (an ingest)",
    tags=["legacy"],
    body=LegacyExtractionRequest,
    response=LegacyExtractionAccepted,
    status=202,
    admin=True,
)
async def start_extraction(request: web.Request, *, body: LegacyExtractionRequest) -> web.Response:
    ingest = IngestRequest.model_validate(body.model_dump(exclude={"url", "priority"}))
    submitted = await submit(request, ingest, priority=LEGACY_PRIORITIES[body.priority])
    answer = LegacyExtractionAccepted(
        success=True,
        message="Extraction démarrée" if submitted.created else "Extraction déjà demandée",
        data={
            "extraction_id": str(submitted.job_id),
            "job_id": str(submitted.job_id),
            "debate_id": str(submitted.debate_id),
            "status": "started",
            "url": body.source_url,
        },
    )
    return web.json_response(answer.model_dump(mode="json"), status=202 if submitted.created else 200)


@operation(summary="Legacy: an extraction's status", tags=["legacy"], response=LegacyExtractionStatus)
async def extraction_status(request: web.Request) -> web.Response:
    job = await load_job(request, uuid_param(request, "job_id", "job"))
    debate_id = str(job.debate_id) if job.debate_id else None
    legacy_status = LEGACY_STATUS[job.status]
    status = LegacyExtractionStatus(
        extraction_id=str(job.id),
        status=legacy_status,
        stage=job.stage,
        progress=job.progress,
        debate_id=debate_id,
        message=job.error or LEGACY_MESSAGES[legacy_status],
    )
    if job.status == "succeeded" and job.debate_id is not None:
        status.file_url = legacy_file(job.debate_id)
        status.stream_url = media_urls(request).master(job.debate_id)
        version = await store.current_version(request.app[keys.DB_POOL], job.debate_id)
        if version:
            status.file_size = await request.app[keys.MEDIA_STORE].size(download_file(job.debate_id, version))
    return web.json_response(status.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

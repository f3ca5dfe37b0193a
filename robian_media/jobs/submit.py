"""Submitting and cancelling ingest jobs: our rows and the queue's job change in one transaction.

These run on the job queue's own (psycopg) connection pool because procrastinate can defer and
cancel on a caller's connection: a job row never exists without its queue job, nor the reverse.
The debate's ``source_key`` (normalised URL) makes submitting idempotent and race-safe: the first
INSERT wins, later ones find the debate and, under its row lock, its current job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import procrastinate
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..ingest.sources.fetch_policy import FetchPolicy
from ..ingest.sources.source_url import SourceLocation, locate_source
from ..settings import Settings
from .errors import SourceRefused
from .models import IngestRequest
from .queue import INGEST_TASK, debate_lock

log = logging.getLogger(__name__)

INSERT_DEBATE = """
INSERT INTO debates (title, chamber, body, starts_at, source_url, source_key, compte_rendu_url)
VALUES (%(title)s, %(chamber)s, %(body)s, %(starts_at)s, %(source_url)s, %(source_key)s, %(compte_rendu_url)s)
ON CONFLICT (source_key) DO NOTHING
RETURNING id
"""
LOCK_DEBATE = "SELECT id, current_version FROM debates WHERE source_key = %(source_key)s FOR UPDATE"
LATEST_JOB = """
SELECT id, status FROM jobs WHERE debate_id = %(debate_id)s ORDER BY created_at DESC, id DESC LIMIT 1
"""
REOPEN_DEBATE = """
UPDATE debates SET
    title = COALESCE(%(given_title)s, title), chamber = COALESCE(%(given_chamber)s, chamber),
    body = COALESCE(%(body)s, body), starts_at = COALESCE(%(starts_at)s, starts_at),
    compte_rendu_url = COALESCE(%(compte_rendu_url)s, compte_rendu_url),
    status = CASE WHEN current_version IS NULL THEN 'pending' ELSE status END, updated_at = now()
 WHERE id = %(debate_id)s
"""
INSERT_JOB = (
    "INSERT INTO jobs (kind, debate_id, params) VALUES ('ingest', %(debate_id)s, %(params)s) RETURNING id"
)
SET_QUEUE_JOB = "UPDATE jobs SET queue_job_id = %(queue_job_id)s WHERE id = %(job_id)s"

CANCEL_JOB = """
UPDATE jobs SET status = 'cancelled', error = 'Cancelled by an operator.',
       finished_at = now(), updated_at = now()
 WHERE id = %(job_id)s AND status IN ('queued', 'running')
RETURNING queue_job_id, debate_id
"""
MARK_DEBATE_CANCELLED = """
UPDATE debates SET status = 'cancelled', updated_at = now()
 WHERE id = %(debate_id)s AND current_version IS NULL
"""
JOB_STATUS = "SELECT status FROM jobs WHERE id = %(job_id)s"


class SubmissionRefused(SourceRefused):
    """A submitted URL the policy refuses; ``field`` names the request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Submitted:
    job_id: UUID
    debate_id: UUID
    created: bool  # False: the same source was already submitted, these are its ids


def placeholder_title(location: SourceLocation) -> str:
    """A title until the sources tell a better one: the portal video, the file or URL's last part."""
    if location.portal is not None:
        return f"Vidéo Assemblée nationale {location.portal.uid}"
    path = location.local_path or PurePosixPath(unquote(urlsplit(location.url).path))
    name = PurePosixPath(str(path)).stem or urlsplit(location.url).hostname or "Débat"
    return name[:200]


async def check_submission(request: IngestRequest, settings: Settings) -> SourceLocation:
    """Everything refusable before a job exists: scheme, local directories, allowlist, addresses."""
    policy = FetchPolicy.from_settings(settings)
    try:
        location = locate_source(request.source_url, settings)
        if location.local_path is None:
            await policy.check_url(location.url)
    except SourceRefused as exc:
        raise SubmissionRefused("source_url", exc.message) from None
    if request.compte_rendu_url:
        try:
            await policy.check_url(request.compte_rendu_url)
        except SourceRefused as exc:
            raise SubmissionRefused("compte_rendu_url", exc.message) from None
    return location


async def submit_ingest(
    queue: procrastinate.App, request: IngestRequest, location: SourceLocation, *, priority: int = 0
) -> Submitted:
    values: dict[str, Any] = {
        "title": request.title or placeholder_title(location),
        "given_title": request.title,
        "chamber": request.chamber or "AN",
        "given_chamber": request.chamber,
        "body": request.body,
        "starts_at": request.starts_at,
        "source_url": request.source_url,
        "source_key": location.key,
        "compte_rendu_url": request.compte_rendu_url,
    }
    async with queue.connector.pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
        cursor = conn.cursor(row_factory=dict_row)
        inserted = await (await cursor.execute(INSERT_DEBATE, values)).fetchone()
        if inserted is None:
            debate = await (await cursor.execute(LOCK_DEBATE, values)).fetchone()
            assert debate is not None
            latest = await (await cursor.execute(LATEST_JOB, {"debate_id": debate["id"]})).fetchone()
            if latest is not None and latest["status"] in ("queued", "running", "succeeded"):
                return Submitted(job_id=latest["id"], debate_id=debate["id"], created=False)
            debate_id = debate["id"]
            await cursor.execute(REOPEN_DEBATE, {**values, "debate_id": debate_id})
        else:
            debate_id = inserted["id"]
        params = Jsonb(request.model_dump(mode="json", exclude_none=True))
        job = await (await cursor.execute(INSERT_JOB, {"debate_id": debate_id, "params": params})).fetchone()
        assert job is not None
        queue_job_id = (
            await queue.tasks[INGEST_TASK]
            .configure(lock=debate_lock(str(debate_id)), priority=priority, connection=conn)
            .defer_async(job_id=str(job["id"]))
        )
        await cursor.execute(SET_QUEUE_JOB, {"queue_job_id": queue_job_id, "job_id": job["id"]})
    log.info("ingest submitted", extra={"job_id": str(job["id"]), "debate_id": str(debate_id)})
    return Submitted(job_id=job["id"], debate_id=debate_id, created=True)


async def cancel_ingest(queue: procrastinate.App, job_id: UUID) -> tuple[str | None, UUID | None]:
    """Cancel a queued or running job; returns (status before, debate id), status None if unknown.

    A running job is asked to abort: its worker cancels the task, which stops yt-dlp/FFmpeg and
    removes what it wrote; the previous published version, if any, stays as it is.
    """
    async with queue.connector.pool.connection() as conn, conn.transaction():  # type: ignore[attr-defined]
        cursor = conn.cursor(row_factory=dict_row)
        row = await (await cursor.execute(CANCEL_JOB, {"job_id": job_id})).fetchone()
        if row is None:
            status = await (await cursor.execute(JOB_STATUS, {"job_id": job_id})).fetchone()
            return (status["status"] if status else None), None
        await cursor.execute(MARK_DEBATE_CANCELLED, {"debate_id": row["debate_id"]})
        if row["queue_job_id"] is not None:
            await queue.job_manager.cancel_job_by_id_async(row["queue_job_id"], abort=True, connection=conn)
    return "cancelled", row["debate_id"]

"""Submitting an ingest: the checks a request must pass first, then its debate and job (jobs/submit.py).

The debate's ``source_key`` (normalised URL) makes submitting idempotent and race-safe: the first
INSERT wins, later ones find the debate and, under its row lock, its current job.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import procrastinate

from ..jobs.errors import SourceRefused
from ..jobs.submit import Submitted, submission
from ..settings import Settings
from .models import IngestRequest
from .sources.fetch_policy import FetchPolicy
from .sources.source_url import SourceLocation, locate_source
from .task import INGEST

log = logging.getLogger(__name__)

INSERT_DEBATE = """
INSERT INTO debates (title, chamber, body, starts_at, source_url, source_key, compte_rendu_url)
VALUES (%(title)s, %(chamber)s, %(body)s, %(starts_at)s, %(source_url)s, %(source_key)s, %(compte_rendu_url)s)
ON CONFLICT (source_key) DO NOTHING
RETURNING id
"""
LOCK_DEBATE = "SELECT id, current_version FROM debates WHERE source_key = %(source_key)s FOR UPDATE"
LATEST_JOB = """
SELECT id, status FROM jobs WHERE debate_id = %(debate_id)s AND kind <> 'compte_rendu'
 ORDER BY created_at DESC, id DESC LIMIT 1
"""
REOPEN_DEBATE = """
UPDATE debates SET
    title = COALESCE(%(given_title)s, title), chamber = COALESCE(%(given_chamber)s, chamber),
    body = COALESCE(%(body)s, body), starts_at = COALESCE(%(starts_at)s, starts_at),
    compte_rendu_url = COALESCE(%(compte_rendu_url)s, compte_rendu_url),
    status = CASE WHEN current_version IS NULL THEN 'pending' ELSE status END, updated_at = now()
 WHERE id = %(debate_id)s
"""


class SubmissionRefused(SourceRefused):
    """A submitted URL the policy refuses; ``field`` names the request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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
    async with submission(queue) as sub:
        inserted = await (await sub.cursor.execute(INSERT_DEBATE, values)).fetchone()
        if inserted is None:
            debate = await (await sub.cursor.execute(LOCK_DEBATE, values)).fetchone()
            assert debate is not None
            latest = await (await sub.cursor.execute(LATEST_JOB, {"debate_id": debate["id"]})).fetchone()
            if latest is not None and latest["status"] in ("queued", "running", "succeeded"):
                return Submitted(job_id=latest["id"], debate_id=debate["id"], created=False)
            debate_id = debate["id"]
            await sub.cursor.execute(REOPEN_DEBATE, {**values, "debate_id": debate_id})
        else:
            debate_id = inserted["id"]
        params = request.model_dump(mode="json", exclude_none=True)
        job_id = await sub.enqueue(INGEST, debate_id, params, priority=priority)
    log.info("ingest submitted", extra={"job_id": str(job_id), "debate_id": str(debate_id)})
    return Submitted(job_id=job_id, debate_id=debate_id, created=True)

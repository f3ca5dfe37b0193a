"""Starting a live job: the debate (status ``live``), our job row and the queue's job in one transaction.

A live source URL (a portal channel's playlist or page) is reused sitting after sitting, so it is not the
debate's idempotency key: submitting it again while its live job is active returns that job; once
that one ended, a new sitting (a new debate) starts.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import procrastinate

from ..ingest.sources.fetch_policy import FetchPolicy
from ..ingest.sources.http_fetch import SourceClient
from ..jobs.circuit_breaker import CircuitBreakers
from ..jobs.errors import IngestError, SourceRefused
from ..jobs.submit import Submitted, submission
from ..settings import Settings
from .models import LiveJobParams, LiveRequest
from .resolve import LiveFound, resolve_live_source
from .task import LIVE

log = logging.getLogger(__name__)

ACTIVE_LIVE = """
SELECT j.id, j.debate_id FROM jobs j JOIN debates d ON d.id = j.debate_id
 WHERE j.kind = 'live' AND j.status IN ('queued', 'running') AND d.source_url = %(source_url)s
 ORDER BY j.created_at DESC LIMIT 1
"""
# one live start at a time per source URL, so two concurrent requests cannot both create a sitting
LOCK_SOURCE = "SELECT pg_advisory_xact_lock(hashtextextended(%(source_url)s, 7))"
INSERT_DEBATE = """
INSERT INTO debates (title, chamber, body, starts_at, source_url, source_key, status)
VALUES (%(title)s, %(chamber)s, %(body)s, %(starts_at)s, %(source_url)s, %(source_key)s, 'live')
RETURNING id
"""


class LiveSourceUnusable(Exception):
    """No live playlist behind the submitted URL: ``kind`` says whether refused, absent or unreachable."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


async def check_live_source(request: LiveRequest, settings: Settings) -> LiveFound:
    """The live playlist behind the request's URL, under the ingest fetch policy."""
    client = SourceClient(FetchPolicy.from_settings(settings), CircuitBreakers())
    try:
        return await resolve_live_source(request.source_url, settings, client)
    except SourceRefused as exc:
        raise LiveSourceUnusable(exc.message, "source_refused") from None
    except IngestError as exc:
        kind = "source_unavailable" if exc.transient else "no_live_stream"
        raise LiveSourceUnusable(exc.message, kind) from None
    finally:
        await client.close()


async def submit_live(queue: procrastinate.App, request: LiveRequest, found: LiveFound) -> Submitted:
    values: dict[str, Any] = {
        "title": request.title or found.title or "Séance en direct",
        "chamber": request.chamber or "AN",
        "body": request.body or found.body,
        "starts_at": request.starts_at or found.starts_at,
        "source_url": found.source_url,
        "source_key": f"live:{uuid.uuid4()}",
    }
    async with submission(queue) as sub:
        await sub.cursor.execute(LOCK_SOURCE, values)
        active = await (await sub.cursor.execute(ACTIVE_LIVE, values)).fetchone()
        if active is not None:
            return Submitted(job_id=active["id"], debate_id=active["debate_id"], created=False)
        debate = await (await sub.cursor.execute(INSERT_DEBATE, values)).fetchone()
        assert debate is not None
        params = LiveJobParams(
            **request.model_dump(exclude={"source_url", "title"}),
            title=request.title or found.title,
            source_url=found.source_url,
            playlist_url=found.playlist_url,
        )
        job_id = await sub.enqueue(LIVE, debate["id"], params.model_dump(mode="json", exclude_none=True))
    log.info("live submitted", extra={"job_id": str(job_id), "debate_id": str(debate["id"])})
    return Submitted(job_id=job_id, debate_id=debate["id"], created=True)

"""What an operator does to a live sitting from any API node: name the speaker, stop the recording.

Both only write rows; the worker that owns the live job reads them every half second (a speaker
becomes a DATERANGE from the next segment on, a stop ends the recording). The ``live.speaker``
event is published by the API at once, so listeners do not wait for the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from .models import SpeakerChange

LIVE_JOB = """
SELECT j.id, j.status, j.queue_job_id, d.starts_at, d.current_version
  FROM jobs j JOIN debates d ON d.id = j.debate_id
 WHERE j.debate_id = $1 AND j.kind = 'live' AND j.status IN ('queued', 'running')
 ORDER BY j.created_at DESC LIMIT 1
 FOR UPDATE OF j
"""
UPSERT_SPEAKER = """
INSERT INTO speakers (id, name, group_abbrev) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET group_abbrev = COALESCE(EXCLUDED.group_abbrev, speakers.group_abbrev)
"""
NEXT_INDEX = "SELECT coalesce(max(idx), 0) + 1 FROM chapters WHERE debate_id = $1"
END_PREVIOUS = """
UPDATE chapters SET end_s = greatest(start_s, $3) WHERE debate_id = $1 AND idx = $2
"""
INSERT_CHAPTER = """
INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name, speaker_group, title)
VALUES ($1, $2, $3, $3, $4, $5, $6, $7)
"""
REQUEST_STOP = (
    "UPDATE jobs SET stop_requested_at = coalesce(stop_requested_at, now()), updated_at = now() WHERE id = $1"
)


class NotLive(Exception):
    """The debate has no active live job."""


@dataclass(frozen=True, slots=True)
class LiveJob:
    job_id: UUID
    status: str
    queue_job_id: int | None
    recording: bool  # a recording exists (a queued job then resumes it, and stops at once)


async def add_speaker(pool: asyncpg.Pool, debate_id: UUID, change: SpeakerChange) -> tuple[int, float]:
    """Store the chapter the new speaker opens; returns its index and start (seconds)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(LIVE_JOB, debate_id)
        if row is None:
            raise NotLive()
        at = change.at
        if at is None:
            started = row["starts_at"] if row["current_version"] is not None else None
            at = max(0.0, (datetime.now(UTC) - started).total_seconds()) if started else 0.0
        speaker = change.speaker
        if speaker.id:
            await conn.execute(UPSERT_SPEAKER, speaker.id, speaker.name, speaker.group)
        index = int(await conn.fetchval(NEXT_INDEX, debate_id))
        if index > 1:
            await conn.execute(END_PREVIOUS, debate_id, index - 1, at)
        await conn.execute(
            INSERT_CHAPTER, debate_id, index, at, speaker.id, speaker.name, speaker.group, change.title
        )
    return index, at


async def request_stop(pool: asyncpg.Pool, debate_id: UUID) -> LiveJob:
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(LIVE_JOB, debate_id)
        if row is None:
            raise NotLive()
        await conn.execute(REQUEST_STOP, row["id"])
    return LiveJob(
        job_id=row["id"],
        status=row["status"],
        queue_job_id=row["queue_job_id"],
        recording=row["current_version"] is not None,
    )

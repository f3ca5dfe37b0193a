"""The live job's rows: the stream it announces while live, chapters and stop requests.

Claiming, re-queueing and failing are every job's (jobs/store.py); writes of a running live job are
fenced by its attempt number like theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from packager.live.playlist import LiveChapter

from ..jobs.store import JobRun

MARK_DEBATE_LIVE = "UPDATE debates SET status = 'live', updated_at = now() WHERE id = $1"

# the version being recorded is the debate's stream while live (status live, rendition building)
UPSERT_BUILDING = """
INSERT INTO renditions (debate_id, version, status, duration, variants)
VALUES ($1, $2, 'building', NULL, $3)
ON CONFLICT (debate_id, version) DO UPDATE SET variants = EXCLUDED.variants
"""
SET_STREAM = """
UPDATE debates SET current_version = $2, starts_at = $3, status = 'live', updated_at = now()
 WHERE id = $1 AND EXISTS (SELECT 1 FROM jobs WHERE id = $4 AND status = 'running' AND attempts = $5)
"""

CONTROL = "SELECT status, attempts, stop_requested_at FROM jobs WHERE id = $1"
NEW_CHAPTERS = """
SELECT idx, start_s, speaker_id, speaker_name, speaker_group FROM chapters
 WHERE debate_id = $1 AND idx > $2 ORDER BY idx
"""
ALIGN_CHAPTER = """
UPDATE chapters SET start_s = $3, end_s = greatest(end_s, $3) WHERE debate_id = $1 AND idx = $2
"""
END_PREVIOUS = "UPDATE chapters SET end_s = $3 WHERE debate_id = $1 AND idx = $2 AND start_s <= $3"

# the recording was withdrawn (cancelled, failed, or to be redone by another attempt): no stream left
WITHDRAW_STREAM = """
UPDATE debates SET status = $2, current_version = NULL, updated_at = now()
 WHERE id = $1 AND status = 'live'
"""
DELETE_BUILDING = "DELETE FROM renditions WHERE debate_id = $1 AND status = 'building'"


@dataclass(frozen=True, slots=True)
class Control:
    """What the operator asked of a running live job."""

    stop: bool
    gone: bool  # cancelled, or re-run by another worker: this attempt must end at once


async def announce_stream(
    pool: asyncpg.Pool, run: JobRun, version: int, starts_at: datetime, variants: list[dict[str, Any]]
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(UPSERT_BUILDING, UUID(run.debate_id), version, variants)
        await conn.execute(SET_STREAM, UUID(run.debate_id), version, starts_at, UUID(run.job_id), run.attempt)


async def control(pool: asyncpg.Pool, run: JobRun) -> Control:
    row = await pool.fetchrow(CONTROL, UUID(run.job_id))
    if row is None or row["status"] != "running" or row["attempts"] != run.attempt:
        return Control(stop=False, gone=True)
    return Control(stop=row["stop_requested_at"] is not None, gone=False)


async def new_chapters(pool: asyncpg.Pool, run: JobRun, after: int) -> list[LiveChapter]:
    rows = await pool.fetch(NEW_CHAPTERS, UUID(run.debate_id), after)
    return [
        LiveChapter(
            index=row["idx"],
            start=row["start_s"],
            end=None,
            speaker_id=row["speaker_id"],
            speaker_name=row["speaker_name"] or "?",
            speaker_group=row["speaker_group"],
        )
        for row in rows
    ]


async def align_chapter(pool: asyncpg.Pool, run: JobRun, chapter: LiveChapter, previous: int | None) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(ALIGN_CHAPTER, UUID(run.debate_id), chapter.index, chapter.start)
        if previous is not None:
            await conn.execute(END_PREVIOUS, UUID(run.debate_id), previous, chapter.start)


async def withdraw_stream(pool: asyncpg.Pool, debate_id: str, status: str) -> None:
    """The debate no longer has a live stream; ``status``: cancelled, failed, or live (a retry is coming)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(WITHDRAW_STREAM, UUID(debate_id), status)
        await conn.execute(DELETE_BUILDING, UUID(debate_id))

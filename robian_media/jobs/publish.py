"""Publishing a packaged version: one transaction, fenced so a version is published at most once.

The job must still be the debate's latest job (compte rendu jobs, which may be queued behind the
sitting's own job, are counted apart), still running, and still at the attempt that did
the packaging; then speakers are upserted, the chapters replaced, the previous rendition retired,
the new one recorded, and the debate and the job updated together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from packager.captions import Cue
from packager.chapters import Chapter
from packager.playlists import Variant
from packager.transcript import Paragraph

from .store import JobRun

LOCK_JOB = """
SELECT j.status, j.attempts,
       (SELECT id FROM jobs WHERE debate_id = j.debate_id
           AND (kind = 'compte_rendu') = (j.kind = 'compte_rendu')
         ORDER BY created_at DESC, id DESC LIMIT 1) AS latest
  FROM jobs j WHERE j.id = $1 FOR UPDATE
"""
LOCK_DEBATE = "SELECT current_version FROM debates WHERE id = $1 FOR UPDATE"

UPSERT_SPEAKERS = """
INSERT INTO speakers (id, name, group_id, group_name, group_abbrev)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name,
    group_id = COALESCE(EXCLUDED.group_id, speakers.group_id),
    group_name = COALESCE(EXCLUDED.group_name, speakers.group_name),
    group_abbrev = COALESCE(EXCLUDED.group_abbrev, speakers.group_abbrev),
    updated_at = now()
"""
DELETE_CHAPTERS = "DELETE FROM chapters WHERE debate_id = $1"
INSERT_CHAPTERS = """
INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name, speaker_group, title)
SELECT $1, * FROM unnest($2::int[], $3::float8[], $4::float8[],
                         $5::text[], $6::text[], $7::text[], $8::text[])
"""
DELETE_TRANSCRIPT = "DELETE FROM transcripts WHERE debate_id = $1"
INSERT_TRANSCRIPT = "INSERT INTO transcripts (debate_id, version, source) VALUES ($1, $2, $3)"
# a paragraph's caption cues ($10–$13, in time order) become its cue arrays (migration 0012)
INSERT_PARAGRAPHS = """
INSERT INTO transcript_paragraphs
       (debate_id, idx, start_s, end_s, speaker_id, speaker_name, speaker_group, chapter, body,
        cue_starts, cue_ends, cue_search)
SELECT $1, p.*, coalesce(c.starts, '{}'), coalesce(c.ends, '{}'), coalesce(c.search, '{}')
FROM unnest($2::int[], $3::float8[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::int[],
            $9::text[]) AS p(idx, start_s, end_s, speaker_id, speaker_name, speaker_group, chapter, body)
LEFT JOIN (
    SELECT paragraph, array_agg(start_s ORDER BY n) AS starts, array_agg(end_s ORDER BY n) AS ends,
           array_agg(to_tsvector('french', robian_unaccent(body)) ORDER BY n) AS search
    FROM unnest($10::int[], $11::float8[], $12::float8[], $13::text[])
         WITH ORDINALITY AS c(paragraph, start_s, end_s, body, n)
    GROUP BY paragraph
) c ON c.paragraph = p.idx
"""
RETIRE_RENDITIONS = """
UPDATE renditions SET status = 'retired' WHERE debate_id = $1 AND status = 'published'
"""
INSERT_RENDITION = """
INSERT INTO renditions (debate_id, version, status, duration, variants, published_at)
VALUES ($1, $2, 'published', $3, $4, now())
ON CONFLICT (debate_id, version) DO UPDATE SET
    status = 'published', duration = EXCLUDED.duration, variants = EXCLUDED.variants, published_at = now()
"""
UPDATE_DEBATE = """
UPDATE debates SET
    current_version = $2, status = 'published', duration = $3,
    title = COALESCE($4, title), body = COALESCE($5, body), starts_at = COALESCE($6, starts_at),
    agenda_uid = COALESCE($7, agenda_uid), updated_at = now()
 WHERE id = $1
"""
FINISH_JOB = """
UPDATE jobs SET status = 'succeeded', stage = 'publishing', progress = 1, error = NULL,
       finished_at = now(), updated_at = now()
 WHERE id = $1
"""


@dataclass(frozen=True, slots=True)
class SpeakerRecord:
    """A row of ``speakers``."""

    id: str
    name: str
    group_id: str | None = None
    group_name: str | None = None
    group_abbrev: str | None = None

    @property
    def group_label(self) -> str | None:
        return self.group_abbrev or self.group_name


class NotOwner(Exception):
    """The job no longer owns its debate (cancelled, superseded, or re-run by another worker)."""


@dataclass(frozen=True, slots=True)
class DebateUpdate:
    """What the sources taught us about the debate (None = keep what is stored)."""

    title: str | None = None
    body: str | None = None
    starts_at: datetime | None = None
    agenda_uid: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """A version's words as published: where they came from, the paragraphs and their cues."""

    source: str  # 'compte_rendu' or 'request'
    paragraphs: list[Paragraph]
    cues: list[Cue]


async def replace_transcript(
    conn: asyncpg.Connection, debate_id: UUID, version: int, transcript: Transcript | None
) -> None:
    """The debate's words become ``transcript`` (or none); inside a transaction."""
    await conn.execute(DELETE_TRANSCRIPT, debate_id)
    await insert_transcript(conn, debate_id, version, transcript)


async def insert_transcript(
    conn: asyncpg.Connection, debate_id: UUID, version: int, transcript: Transcript | None
) -> None:
    """Writes ``transcript`` (if any) for a debate whose old words are already deleted."""
    if transcript is None or not transcript.paragraphs:
        return
    paragraphs = transcript.paragraphs
    await conn.execute(INSERT_TRANSCRIPT, debate_id, version, transcript.source)
    await conn.execute(
        INSERT_PARAGRAPHS,
        debate_id,
        [p.index for p in paragraphs],
        [p.start for p in paragraphs],
        [p.end for p in paragraphs],
        [p.speaker.id for p in paragraphs],
        [p.speaker.name for p in paragraphs],
        [p.speaker.group for p in paragraphs],
        [p.chapter for p in paragraphs],
        [p.text for p in paragraphs],
        [cue.paragraph for cue in transcript.cues],
        [cue.start for cue in transcript.cues],
        [cue.end for cue in transcript.cues],
        [cue.text for cue in transcript.cues],
    )


async def publish_version(
    pool: asyncpg.Pool,
    run: JobRun,
    *,
    version: int,
    duration: float,
    variants: list[Variant],
    chapters: list[Chapter],
    speakers: list[SpeakerRecord],
    debate: DebateUpdate,
    transcript: Transcript | None = None,
) -> None:
    debate_id = UUID(run.debate_id)
    async with pool.acquire() as conn, conn.transaction():
        job = await conn.fetchrow(LOCK_JOB, UUID(run.job_id))
        if job is None or job["status"] != "running" or job["attempts"] != run.attempt:
            raise NotOwner(f"job {run.job_id} is {job['status'] if job else 'gone'}")
        if str(job["latest"]) != run.job_id:
            raise NotOwner(f"job {run.job_id} was superseded by job {job['latest']}")
        await conn.execute(LOCK_DEBATE, debate_id)
        if speakers:
            await conn.execute(
                UPSERT_SPEAKERS,
                [s.id for s in speakers],
                [s.name for s in speakers],
                [s.group_id for s in speakers],
                [s.group_name for s in speakers],
                [s.group_abbrev for s in speakers],
            )
        await conn.execute(DELETE_CHAPTERS, debate_id)
        if chapters:
            await conn.execute(
                INSERT_CHAPTERS,
                debate_id,
                [c.index for c in chapters],
                [c.start for c in chapters],
                [c.end for c in chapters],
                [c.speaker.id for c in chapters],
                [c.speaker.name for c in chapters],
                [c.speaker.group for c in chapters],
                [c.title for c in chapters],
            )
        # the old words go before the debate's update and the new ones come after it: their passages'
        # copies of the debate's version and status (transcript_search, migration 0011) are written
        # once, not written by the insert and then rewritten row by row by the update's trigger
        await conn.execute(DELETE_TRANSCRIPT, debate_id)
        await conn.execute(RETIRE_RENDITIONS, debate_id)
        await conn.execute(INSERT_RENDITION, debate_id, version, duration, [asdict(v) for v in variants])
        await conn.execute(
            UPDATE_DEBATE,
            debate_id,
            version,
            duration,
            debate.title,
            debate.body,
            debate.starts_at,
            debate.agenda_uid,
        )
        await insert_transcript(conn, debate_id, version, transcript)
        await conn.execute(FINISH_JOB, UUID(run.job_id))

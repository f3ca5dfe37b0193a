"""Plain SQL of the podcast feature: what a clip is cut from, and the rows feeds list."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

CLIP_SOURCE = """
SELECT d.title, d.body, d.starts_at, d.status, d.current_version,
       r.status AS rendition_status, r.duration, coalesce(r.variants, '[]'::jsonb) AS variants
FROM debates d
LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
WHERE d.id = $1
"""


class ClipSource(NamedTuple):
    title: str
    body: str | None
    starts_at: dt.datetime | None
    status: str
    current_version: int | None
    rendition_status: str | None
    duration: float | None
    variants: list[dict[str, Any]]

    @property
    def published(self) -> bool:
        return self.current_version is not None and self.rendition_status == "published"


async def get_clip_source(conn: asyncpg.Connection, debate_id: UUID) -> ClipSource | None:
    row = await conn.fetchrow(CLIP_SOURCE, debate_id)
    if row is None:
        return None
    variants = row["variants"]
    kept = [v for v in variants if isinstance(v, dict)] if isinstance(variants, list) else []
    return ClipSource(**{**dict(row), "variants": kept})


# what a debates.rss item needs beyond the catalog's Debate row (one query for the whole page)
FEED_EXTRAS = """
SELECT d.id, d.current_version, d.description, r.published_at, coalesce(r.variants, '[]'::jsonb) AS variants,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'group', s.grp)
                                  ORDER BY s.first_start)
                   FROM (SELECT coalesce(c.speaker_id, c.speaker_name) AS key,
                                min(c.speaker_id) AS id, min(c.speaker_name) AS name,
                                min(c.speaker_group) AS grp, min(c.start_s) AS first_start
                           FROM chapters c WHERE c.debate_id = d.id AND c.speaker_name IS NOT NULL
                          GROUP BY 1) s), '[]'::jsonb) AS speakers
FROM debates d
JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
WHERE d.id = ANY($1::uuid[])
"""

# a speaker's interventions in published sittings, the latest first; $2 limit
SPEAKER_INTERVENTIONS = """
SELECT c.debate_id, c.idx, c.start_s, c.end_s, c.title, d.title AS debate_title, d.body, d.starts_at,
       d.current_version, r.published_at, r.duration, coalesce(r.variants, '[]'::jsonb) AS variants
FROM chapters c
JOIN debates d ON d.id = c.debate_id AND d.status = 'published'
JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version AND r.status = 'published'
WHERE c.speaker_id = $1
ORDER BY coalesce(d.starts_at, r.published_at) DESC, d.id DESC, c.start_s DESC
LIMIT $2
"""


class FeedExtras(NamedTuple):
    version: int
    description: str | None
    published_at: dt.datetime | None
    variants: list[dict[str, Any]]
    speakers: list[dict[str, Any]]


class InterventionRow(NamedTuple):
    debate_id: UUID
    chapter: int
    start: float
    end: float
    title: str | None
    debate_title: str
    body: str | None
    starts_at: dt.datetime | None
    version: int
    published_at: dt.datetime | None
    duration: float
    variants: list[dict[str, Any]]


async def feed_extras(conn: asyncpg.Connection, debate_ids: list[UUID]) -> dict[UUID, FeedExtras]:
    rows = await conn.fetch(FEED_EXTRAS, debate_ids)
    return {
        row["id"]: FeedExtras(
            row["current_version"], row["description"], row["published_at"], row["variants"], row["speakers"]
        )
        for row in rows
    }


async def speaker_interventions(
    conn: asyncpg.Connection, speaker_id: str, limit: int
) -> list[InterventionRow]:
    rows = await conn.fetch(SPEAKER_INTERVENTIONS, speaker_id, limit)
    return [
        InterventionRow(
            r["debate_id"],
            r["idx"],
            r["start_s"],
            r["end_s"],
            r["title"],
            r["debate_title"],
            r["body"],
            r["starts_at"],
            r["current_version"],
            r["published_at"],
            r["duration"] or r["end_s"],
            r["variants"],
        )
        for r in rows
    ]

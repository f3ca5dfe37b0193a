"""Debates as the listener lists show them (DESIGN §4 Debate), looked up by id.

The one place the listener features read debates: when the metadata API's Debate model and
queries land, these functions delegate to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel


class Debate(BaseModel):
    id: UUID
    title: str
    chamber: str
    body: str | None
    starts_at: datetime | None
    duration: float | None
    status: str
    source_url: str
    speakers_count: int
    chapters_count: int
    master_url: str | None


SELECT_DEBATES_BY_ID = """
SELECT d.id, d.title, d.chamber, d.body, d.starts_at, d.duration, d.status, d.source_url,
       d.current_version,
       (SELECT count(DISTINCT coalesce(c.speaker_id, c.speaker_name))
          FROM chapters c WHERE c.debate_id = d.id) AS speakers_count,
       (SELECT count(*) FROM chapters c WHERE c.debate_id = d.id) AS chapters_count
FROM debates d
WHERE d.id = ANY($1::uuid[])
"""

SELECT_MISSING_DEBATES = """
SELECT wanted.id FROM unnest($1::uuid[]) AS wanted (id)
WHERE NOT EXISTS (SELECT 1 FROM debates d WHERE d.id = wanted.id)
"""


def master_url(base_url: str, debate_id: UUID) -> str:
    return f"{base_url}/hls/{debate_id}/master.m3u8"


async def debates_by_id(conn: asyncpg.Connection, ids: Iterable[UUID], base_url: str) -> dict[UUID, Debate]:
    rows = await conn.fetch(SELECT_DEBATES_BY_ID, list(set(ids)))
    return {
        row["id"]: Debate(
            id=row["id"],
            title=row["title"],
            chamber=row["chamber"],
            body=row["body"],
            starts_at=row["starts_at"],
            duration=row["duration"],
            status=row["status"],
            source_url=row["source_url"],
            speakers_count=row["speakers_count"],
            chapters_count=row["chapters_count"],
            # playlists exist once a first version is (being) published
            master_url=master_url(base_url, row["id"]) if row["current_version"] is not None else None,
        )
        for row in rows
    }


async def missing_debates(conn: asyncpg.Connection, ids: Iterable[UUID]) -> set[UUID]:
    return {row["id"] for row in await conn.fetch(SELECT_MISSING_DEBATES, list(set(ids)))}


async def debate_exists(conn: asyncpg.Connection, debate_id: UUID) -> bool:
    return not await missing_debates(conn, [debate_id])

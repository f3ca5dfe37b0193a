"""The agenda (programme items): a day's items linked to their debates, and upserts from the agenda."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import asyncpg

from ..media.urls import MediaUrls
from .models import ProgrammeItem

# an item's debate: the one linked at import, else the one ingested later under the same réunion uid
LIST_DAY = """
SELECT p.id, p.agenda_uid, p.day, p.starts_at, p.ends_at, p.title, p.body, p.location, p.state, p.topics,
       d.id AS debate_id, d.status AS debate_status, d.current_version
FROM programme_items p
LEFT JOIN LATERAL (
    SELECT d.id, d.status, d.current_version FROM debates d
    WHERE d.id = p.debate_id OR (p.agenda_uid IS NOT NULL AND d.agenda_uid = p.agenda_uid)
    ORDER BY (d.id = p.debate_id) IS TRUE DESC, d.created_at DESC
    LIMIT 1
) d ON true
WHERE p.day = $1
ORDER BY p.starts_at NULLS LAST, p.title, p.id
"""

UPSERT_ITEM = """
INSERT INTO programme_items
    (agenda_uid, day, starts_at, ends_at, title, body, location, state, topics, debate_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb,
        (SELECT id FROM debates WHERE agenda_uid = $1 ORDER BY created_at LIMIT 1))
ON CONFLICT (agenda_uid) DO UPDATE SET
    day = EXCLUDED.day, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
    title = EXCLUDED.title, body = EXCLUDED.body, location = EXCLUDED.location,
    state = EXCLUDED.state, topics = EXCLUDED.topics,
    debate_id = coalesce(EXCLUDED.debate_id, programme_items.debate_id), updated_at = now()
RETURNING (xmax = 0) AS inserted
"""


class AgendaItem(NamedTuple):
    """One réunion of the agenda, as imported."""

    agenda_uid: str
    day: dt.date
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    title: str
    body: str | None
    location: str | None
    state: str | None
    topics: list[str]


def item_from_row(row: asyncpg.Record, urls: MediaUrls) -> ProgrammeItem:
    packaged = row["debate_id"] is not None and row["current_version"] is not None
    topics: Any = row["topics"]
    return ProgrammeItem(
        id=row["id"],
        agenda_uid=row["agenda_uid"],
        day=row["day"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        title=row["title"],
        body=row["body"],
        location=row["location"],
        state=row["state"],
        topics=[str(t) for t in topics] if isinstance(topics, list) else [],
        debate_id=row["debate_id"],
        debate_status=row["debate_status"],
        master_url=urls.master(row["debate_id"]) if packaged else None,
    )


async def list_day(conn: asyncpg.Connection, day: dt.date, urls: MediaUrls) -> list[ProgrammeItem]:
    return [item_from_row(row, urls) for row in await conn.fetch(LIST_DAY, day)]


async def upsert_items(conn: asyncpg.Connection, items: list[AgendaItem]) -> tuple[int, int]:
    """Insert or update by réunion uid, all or nothing; returns (inserted, updated)."""
    inserted = 0
    async with conn.transaction():
        for item in items:
            if await conn.fetchval(UPSERT_ITEM, *item):
                inserted += 1
    return inserted, len(items) - inserted

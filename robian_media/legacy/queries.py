"""Queries in the shapes of the RobianAPI (AN-droid) backend the existing mobile client reads."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from uuid import UUID

import asyncpg

from ..catalog.debate_queries import DEBATE_FILTERS, LISTING_KEY, SITTING_TIMEZONE
from ..db.filtered import Filters

# the old client's débat "type", derived from what we know of a sitting
LEGACY_TYPE = """CASE
    WHEN robian_unaccent(d.title) LIKE '%audition%' THEN 'audition'
    WHEN robian_unaccent(coalesce(d.body, '')) LIKE '%commission%' THEN 'commission'
    WHEN d.body IS NULL OR robian_unaccent(d.body) LIKE '%seance%' THEN 'seance_publique'
    ELSE 'autre'
END"""

LEGACY_SELECT = f"""
SELECT d.id, d.title, d.body, d.description, d.public_source AS source_url, d.status, d.current_version,
       coalesce(d.duration, r.duration) AS duration,
       (coalesce(d.starts_at, d.created_at) AT TIME ZONE '{SITTING_TIMEZONE}')::date AS day,
       {LEGACY_TYPE} AS type,
       array(SELECT coalesce(c.speaker_name, s.name)
             FROM chapters c LEFT JOIN speakers s ON s.id = c.speaker_id
             WHERE c.debate_id = d.id AND coalesce(c.speaker_name, s.name) IS NOT NULL
             GROUP BY 1 ORDER BY min(c.idx)) AS speakers
FROM debates d
LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
"""  # noqa: S608 (constants only)

# only the filters given (db/filtered.py); `commission` is part of the body's name
LEGACY_FILTERS = Filters(
    {
        "statuses": DEBATE_FILTERS.conditions["statuses"],
        "date_from": DEBATE_FILTERS.conditions["date_from"],
        "date_to": DEBATE_FILTERS.conditions["date_to"],
        "kind": f"{LEGACY_TYPE} = $?::text",
        "commission": "strpos(robian_unaccent(coalesce(d.body, '')), robian_unaccent($?::text)) > 0",
    }
)
LEGACY_LIST = (
    LEGACY_SELECT
    + f"""
WHERE {{conditions}}
ORDER BY {LISTING_KEY} DESC, d.id DESC
LIMIT $limit
"""
)

LEGACY_GET = LEGACY_SELECT + "WHERE d.id = $1"


class LegacyDebateRow(NamedTuple):
    id: UUID
    title: str
    body: str | None
    description: str | None
    source_url: str
    status: str
    current_version: int | None
    duration: float | None
    day: dt.date
    type: str
    speakers: list[str]


async def list_debates(
    conn: asyncpg.Connection,
    *,
    statuses: tuple[str, ...],
    date_from: dt.date | None,
    date_to: dt.date | None,
    kind: str | None,
    commission: str | None,
    limit: int,
) -> list[LegacyDebateRow]:
    values = {
        "statuses": list(statuses),
        "date_from": date_from,
        "date_to": date_to,
        "kind": kind,
        "commission": commission,
    }
    sql, arguments = LEGACY_FILTERS.statement(LEGACY_LIST, values, limit=limit)
    rows = await conn.fetch(sql, *arguments)
    return [LegacyDebateRow(**dict(r)) for r in rows]


async def get_debate(conn: asyncpg.Connection, debate_id: UUID) -> LegacyDebateRow | None:
    row = await conn.fetchrow(LEGACY_GET, debate_id)
    return LegacyDebateRow(**dict(row)) if row else None

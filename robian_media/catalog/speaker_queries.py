"""Speakers (deputies and other orators) and where they spoke."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from uuid import UUID

import asyncpg

from ..db.filtered import Filters
from ..media.urls import MediaUrls
from .debate_queries import FIRST_POSITION, LISTED_STATUSES, LISTING_KEY
from .models import Intervention, Speaker
from .text_search import excerpt

# A speaker's row with its counts; {speakers} is the speakers table or the page of it chosen first,
# so the counts are computed for the rows answered only (never for every speaker before a LIMIT)
SPEAKER_SELECT = """
SELECT s.id, s.name, s.name_key, s.group_id, s.group_name, s.group_abbrev,
       stats.interventions_count, stats.debates_count
FROM {speakers} s
CROSS JOIN LATERAL (
    SELECT count(*) AS interventions_count, count(DISTINCT c.debate_id) AS debates_count
    FROM chapters c WHERE c.speaker_id = s.id
) stats
"""

# the optional filters (db/filtered.py): the group by id, abbreviation or name; a prefix tsquery over names
SPEAKER_FILTERS = Filters(
    {
        "group": """(lower(s.group_id) = lower($?::text)
           OR robian_unaccent(s.group_abbrev) = robian_unaccent($?::text)
           OR robian_unaccent(s.group_name) = robian_unaccent($?::text))""",
        "name_query": "s.search @@ to_tsquery('simple', $?::text)",
    }
)

# $after_key/$after_id keyset (name_key, id), $limit
LIST_SPEAKERS = (
    SPEAKER_SELECT.format(  # noqa: S608 (constants only)
        speakers="""(
    SELECT * FROM speakers s
    WHERE {conditions}
      AND (s.name_key, s.id) > ($after_key::text, $after_id::text)
    ORDER BY s.name_key, s.id
    LIMIT $limit
)"""
    )
    + "ORDER BY s.name_key, s.id\n"
)

GET_SPEAKER = SPEAKER_SELECT.format(speakers="speakers") + "WHERE s.id = $1"

# newest sitting first, then in speaking order; $2 statuses, $3/$4/$5 keyset, $6 limit.
# The speaker's chapters first (an index range, a few thousand rows for the most prolific), then the
# page of them; only its rows look up their first paragraph of words. Left to itself, the planner
# walks every debate in listing order looking for the speaker (3 s on 100 000 debates:
# bench/query_plans.py).
LIST_INTERVENTIONS = f"""
WITH spoken AS MATERIALIZED (
    SELECT c.debate_id, c.idx, c.start_s, c.end_s, c.title, c.speaker_id FROM chapters c
    WHERE c.speaker_id = $1
),
page AS (
    SELECT c.debate_id, d.title AS debate_title, d.starts_at AS debate_starts_at, d.current_version,
           c.idx, c.start_s, c.end_s, c.title, c.speaker_id, {LISTING_KEY} AS listing_key
    FROM spoken c
    JOIN debates d ON d.id = c.debate_id
    WHERE d.status = ANY($2::text[])
      AND ({LISTING_KEY} < $3::text::timestamptz
           OR ({LISTING_KEY} = $3::text::timestamptz AND (d.id < $4 OR (d.id = $4 AND c.idx > $5))))
    ORDER BY {LISTING_KEY} DESC, d.id DESC, c.idx
    LIMIT $6
)
SELECT page.debate_id, page.debate_title, page.debate_starts_at, page.current_version,
       page.idx, page.start_s, page.end_s, page.title, w.body AS words
FROM page
LEFT JOIN LATERAL (
    SELECT p.body FROM transcript_paragraphs p JOIN transcripts t ON t.debate_id = p.debate_id
     WHERE p.debate_id = page.debate_id AND t.version = page.current_version AND p.chapter = page.idx
       AND p.speaker_id IS NOT DISTINCT FROM page.speaker_id
     ORDER BY p.idx LIMIT 1
) w ON true
ORDER BY page.listing_key DESC, page.debate_id DESC, page.idx
"""  # noqa: S608 (constants only)


class SpeakerKey(NamedTuple):
    name_key: str
    id: str


class InterventionKey(NamedTuple):
    debate_starts_at: dt.datetime | None
    debate_id: UUID
    chapter_index: int


def speaker_from_row(row: asyncpg.Record) -> Speaker:
    return Speaker(
        id=row["id"],
        name=row["name"],
        group=row["group_abbrev"] or row["group_name"],
        group_id=row["group_id"],
        group_name=row["group_name"],
        interventions_count=row["interventions_count"],
        debates_count=row["debates_count"],
    )


async def list_speakers(
    conn: asyncpg.Connection,
    *,
    group: str | None,
    name_query: str | None,
    limit: int,
    after: SpeakerKey | None,
) -> tuple[list[Speaker], SpeakerKey | None]:
    """A page in name order and the key to continue after it (None: last page)."""
    after = after or SpeakerKey("", "")
    sql, arguments = SPEAKER_FILTERS.statement(
        LIST_SPEAKERS,
        {"group": group, "name_query": name_query},
        after_key=after.name_key,
        after_id=after.id,
        limit=limit + 1,
    )
    rows = await conn.fetch(sql, *arguments)
    page = rows[:limit]
    more = len(rows) > limit and page
    return [speaker_from_row(r) for r in page], (
        SpeakerKey(page[-1]["name_key"], page[-1]["id"]) if more else None
    )


async def get_speaker(conn: asyncpg.Connection, speaker_id: str) -> Speaker | None:
    row = await conn.fetchrow(GET_SPEAKER, speaker_id)
    return speaker_from_row(row) if row else None


async def list_interventions(
    conn: asyncpg.Connection,
    speaker_id: str,
    *,
    limit: int,
    after: InterventionKey | None,
    urls: MediaUrls,
) -> tuple[list[Intervention], InterventionKey | None]:
    if after is None:
        (at, at_id), at_idx = FIRST_POSITION, -1
    else:
        at = after.debate_starts_at.isoformat() if after.debate_starts_at else "-infinity"
        at_id, at_idx = after.debate_id, after.chapter_index
    rows = await conn.fetch(
        LIST_INTERVENTIONS, speaker_id, list(LISTED_STATUSES), at, at_id, at_idx, limit + 1
    )
    items = [
        Intervention(
            debate_id=r["debate_id"],
            debate_title=r["debate_title"],
            debate_starts_at=r["debate_starts_at"],
            index=r["idx"],
            start=r["start_s"],
            end=r["end_s"],
            title=r["title"],
            master_url=urls.master(r["debate_id"]) if r["current_version"] is not None else None,
            excerpt=excerpt(r["words"], "") if r["words"] else None,
        )
        for r in rows[:limit]
    ]
    if len(rows) <= limit or not items:
        return items, None
    last = items[-1]
    return items, InterventionKey(last.debate_starts_at, last.debate_id, last.index)

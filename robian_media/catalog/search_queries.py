"""French full-text search over debates, chapters, speakers and passages of what was said (the words of
DESIGN §8), and type-ahead suggestions.

Every text is folded with ``robian_unaccent`` before ``to_tsvector``/``to_tsquery`` (see migration
0001), so "seance" finds "séance". Debates and chapters use the French configuration (stemming);
speaker names the ``simple`` one (names are not stemmed).
"""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

from ..media.urls import MediaUrls
from .debate_queries import LISTED_STATUSES
from .models import ChapterSpeaker, SearchKind, SearchResult, Suggestion
from .text_search import excerpt

# $1 the words typed (websearch syntax: "quoted phrase", -excluded, or), $2 statuses, $3 kinds,
# $4 limit, $5 offset, $6 candidates per kind. Title weights rank a debate's title above its body and
# description. Each kind ranks at most $6 of its matches (those the index hands first): a broad query
# ("a or b or …") costs that much, never a ranking of every match in the table (issue #22).
# A passage's text, speaker and cue (where its words are said: the first of the paragraph's cue vectors
# that matches, migration 0012) are looked up for the page of hits only.
SEARCH_ORDER = "ORDER BY rank DESC, kind, starts_at DESC NULLS LAST, debate_id, idx, speaker_id"
SEARCH = """
WITH q AS (
    SELECT websearch_to_tsquery('french', robian_unaccent($1)) AS fr,
           websearch_to_tsquery('simple', robian_unaccent($1)) AS simple
), page AS (
SELECT * FROM (
    SELECT 'debate' AS kind, ts_rank(d.search, q.fr) AS rank, d.title, d.id AS debate_id,
           NULL::text AS debate_title, d.starts_at, d.current_version,
           NULL::int AS idx, NULL::float8 AS start_s, NULL::float8 AS end_s,
           NULL::text AS speaker_id, NULL::text AS speaker_name, NULL::text AS speaker_group
    FROM q, LATERAL (
        SELECT * FROM debates d
        WHERE 'debate' = ANY($3::text[]) AND d.search @@ q.fr AND d.status = ANY($2::text[])
        LIMIT $6
    ) d
    UNION ALL
    SELECT 'chapter', ts_rank('{1,1,1,1}', c.search, q.fr),
           coalesce(c.title, c.speaker_name, c.debate_title), c.debate_id, c.debate_title, c.starts_at,
           c.current_version, c.idx, c.start_s, c.end_s, c.speaker_id, c.speaker_name, c.speaker_group
    FROM q, LATERAL (
        SELECT c.*, d.title AS debate_title, d.starts_at, d.current_version
        FROM chapters c JOIN debates d ON d.id = c.debate_id
        WHERE 'chapter' = ANY($3::text[]) AND c.search @@ q.fr AND d.status = ANY($2::text[])
        LIMIT $6
    ) c
    UNION ALL
    SELECT 'speaker', ts_rank('{1,1,1,1}', s.search, q.simple), s.name, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, s.id, s.name, coalesce(s.group_abbrev, s.group_name)
    FROM q, LATERAL (
        SELECT * FROM speakers s WHERE 'speaker' = ANY($3::text[]) AND s.search @@ q.simple LIMIT $6
    ) s
    UNION ALL
    -- passages are ranked on transcript_search alone (issue #17: a candidate's row holds its vector and
    -- its debate's status, version and start, not its text), and only those that may be on the page
    -- (the page's order among passages) reach the sort of every kind: the candidates are sorted as
    -- narrow rows on four keys. Text, speaker and debate title are read below, for the page only.
    SELECT 'passage', s.rank, NULL, s.debate_id, NULL, s.debate_starts_at, s.debate_version, s.idx,
           NULL, NULL, NULL, NULL, NULL
    FROM (
        SELECT ts_rank('{1,1,1,1}', s.search, q.fr) AS rank, s.debate_starts_at, s.debate_id, s.idx,
               s.debate_version
        FROM q, LATERAL (
            SELECT s.* FROM transcript_search s
            WHERE 'passage' = ANY($3::text[]) AND s.search @@ q.fr AND s.debate_status = ANY($2::text[])
              AND s.version = s.debate_version
            LIMIT $6
        ) s
        ORDER BY rank DESC, s.debate_starts_at DESC NULLS LAST, s.debate_id, s.idx
        LIMIT $4::bigint + $5::bigint
    ) s
) hits
SEARCH_ORDER
LIMIT $4 OFFSET $5
)
-- the excerpt is cut from the text as written: the words are found accent-blind (text_search.excerpt)
SELECT page.kind, page.rank, coalesce(p.body, page.title) AS title, page.debate_id,
       coalesce(d.title, page.debate_title) AS debate_title, page.starts_at, page.current_version, page.idx,
       coalesce(p.speaker_id, page.speaker_id) AS speaker_id,
       coalesce(p.speaker_name, page.speaker_name) AS speaker_name,
       coalesce(p.speaker_group, page.speaker_group) AS speaker_group,
       coalesce(c.start_s, p.start_s, page.start_s) AS start_s,
       coalesce(c.end_s, p.end_s, page.end_s) AS end_s
FROM page CROSS JOIN q
LEFT JOIN transcript_paragraphs p
       ON page.kind = 'passage' AND p.debate_id = page.debate_id AND p.idx = page.idx
LEFT JOIN debates d ON page.kind = 'passage' AND d.id = page.debate_id
LEFT JOIN LATERAL (
    SELECT p.cue_starts[i] AS start_s, p.cue_ends[i] AS end_s
      FROM generate_subscripts(p.cue_search, 1) AS i
     WHERE p.cue_search[i] @@ q.fr
     ORDER BY i LIMIT 1
) c ON page.kind = 'passage'
SEARCH_ORDER
""".replace("SEARCH_ORDER", SEARCH_ORDER)
# matches of each kind ranked per search (past them, a person refines the words)
SEARCH_CANDIDATES = 500
# a search still slower than this (a cold cache, a huge table) is stopped rather than hold a connection
SEARCH_TIMEOUT_MS = 500

# name prefix through the text_pattern_ops btree (byte order: every completion of p sorts in
# [p, p || U+10FFFF)), then any word of the name as a prefix through the GIN index
SPEAKER_SUGGESTIONS = """
(SELECT s.id, s.name FROM speakers s
 WHERE s.name_key ~>=~ robian_unaccent($1) AND s.name_key ~<~ (robian_unaccent($1) || chr(1114111))
 ORDER BY s.name_key LIMIT $3)
UNION ALL
(SELECT s.id, s.name FROM speakers s
 WHERE s.search @@ to_tsquery('simple', $2)
 ORDER BY s.name_key LIMIT $3)
"""

# $1 prefix tsquery ('proposition & lo:*')
DEBATE_SUGGESTIONS = """
SELECT d.id, d.title FROM debates d
WHERE d.search @@ to_tsquery('french', $1) AND d.status = ANY($2::text[])
ORDER BY ts_rank(d.search, to_tsquery('french', $1)) DESC, d.starts_at DESC NULLS LAST
LIMIT $3
"""


class SearchHits(NamedTuple):
    items: list[SearchResult]
    more: bool


async def search(
    conn: asyncpg.Connection,
    text: str,
    *,
    kinds: tuple[SearchKind, ...],
    limit: int,
    offset: int,
    urls: MediaUrls,
) -> SearchHits:
    async with conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL statement_timeout = {SEARCH_TIMEOUT_MS}")
        rows = await conn.fetch(
            SEARCH, text, list(LISTED_STATUSES), list(kinds), limit + 1, offset, SEARCH_CANDIDATES
        )
    items = []
    for r in rows[:limit]:
        packaged = r["debate_id"] is not None and r["current_version"] is not None
        speaker = None
        if r["kind"] in ("chapter", "passage") and r["speaker_name"]:
            speaker = ChapterSpeaker(id=r["speaker_id"], name=r["speaker_name"], group=r["speaker_group"])
        items.append(
            SearchResult(
                kind=r["kind"],
                rank=round(r["rank"], 6),
                title=excerpt(r["title"], text) if r["kind"] == "passage" else r["title"],
                debate_id=r["debate_id"],
                debate_title=r["debate_title"],
                starts_at=r["starts_at"],
                master_url=urls.master(r["debate_id"]) if packaged else None,
                index=r["idx"],
                start=r["start_s"],
                end=r["end_s"],
                speaker=speaker,
                speaker_id=r["speaker_id"] if r["kind"] == "speaker" else None,
                group=r["speaker_group"] if r["kind"] == "speaker" else None,
            )
        )
    return SearchHits(items, len(rows) > limit)


async def suggestions(
    conn: asyncpg.Connection, typed: str, *, word_prefixes: str | None, title_prefix: str | None, limit: int
) -> list[Suggestion]:
    """Speakers first (at most half when titles match too), then debate titles, no repeats."""
    speakers: list[Suggestion] = []
    seen_ids: set[str] = set()
    for row in await conn.fetch(SPEAKER_SUGGESTIONS, typed, word_prefixes, limit):
        if row["id"] not in seen_ids:
            seen_ids.add(row["id"])
            speakers.append(Suggestion(kind="speaker", text=row["name"], id=row["id"]))
    titles: list[Suggestion] = []
    if title_prefix:
        seen_titles: set[str] = set()
        for row in await conn.fetch(DEBATE_SUGGESTIONS, title_prefix, list(LISTED_STATUSES), limit * 3):
            if row["title"] not in seen_titles:
                seen_titles.add(row["title"])
                titles.append(Suggestion(kind="debate", text=row["title"], id=str(row["id"])))
    head = speakers[: max(limit - len(titles), limit // 2)]
    return (head + titles + speakers[len(head) :])[:limit]

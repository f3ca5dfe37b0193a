"""Debates, their chapters and published stream: read queries of the metadata API."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from ..db.filtered import Filters, Statement
from ..media.urls import MediaUrls
from .models import Chapter, ChapterSpeaker, Debate, Stream, Variant

# sittings are French: a "day" in filters and the programme is a day in Paris
SITTING_TIMEZONE = "Europe/Paris"
# what a listener can open; other states are asked for explicitly with `status`
LISTED_STATUSES = ("published", "live", "processing")

# the listing order (newest first, unknown start last) as one sortable key; see migration 0002
LISTING_KEY = "coalesce(d.starts_at, '-infinity'::timestamptz)"

# every Debate column, selected FROM some rows of debates aliased `d`, then this join
# (chapters_count and speakers_count are kept by triggers on chapters: migration 0002)
DEBATE_COLUMNS = """
SELECT d.id, d.title, d.chamber, d.body, d.starts_at, d.status, d.public_source AS source_url,
       d.current_version, coalesce(d.duration, r.duration) AS duration, d.chapters_count, d.speakers_count
"""
DEBATE_JOINS = """
LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
"""

# The page is chosen first (listing index, LIMIT), then joined to its renditions. Its statement holds
# only the filters a request gives (db/filtered.py: planned once per connection, not per request).
DEBATE_FILTERS = Filters(
    {
        "chamber": "d.chamber = $?::text",
        "body": "robian_unaccent(d.body) = robian_unaccent($?::text)",
        "date_from": f"d.starts_at >= ($?::date::timestamp AT TIME ZONE '{SITTING_TIMEZONE}')",
        "date_to": f"d.starts_at < (($?::date + 1)::timestamp AT TIME ZONE '{SITTING_TIMEZONE}')",
        "statuses": "d.status = ANY($?::text[])",
        "speaker_id": """EXISTS (SELECT 1 FROM chapters c
                                WHERE c.debate_id = d.id AND c.speaker_id = $?::text)""",
        "q": """(d.search @@ websearch_to_tsquery('french', robian_unaccent($?::text))
           OR EXISTS (SELECT 1 FROM chapters c WHERE c.debate_id = d.id
                      AND c.search @@ websearch_to_tsquery('french', robian_unaccent($?::text))))""",
    }
)

# $limit: one row more than the page; then the keyset position (text timestamptz incl. ±infinity, uuid)
LIST_PAGE = f"""
WITH page AS (
    SELECT d.* FROM debates d
    WHERE {{conditions}}
      AND ({LISTING_KEY}, d.id) < ($at::text::timestamptz, $at_id::uuid)
    ORDER BY {LISTING_KEY} DESC, d.id DESC
    LIMIT $limit
)
"""  # noqa: S608

LIST_DEBATES = f"""{LIST_PAGE}
{DEBATE_COLUMNS} FROM page d {DEBATE_JOINS}
ORDER BY {LISTING_KEY} DESC, d.id DESC
"""

# A Debate (models.py) as PostgreSQL writes it, field for field, in the form pydantic gives
# (tests/metadata/test_debates_api.py holds the two to the same answer): the row's own fields were
# written when it last changed (debates.listing_fields, migration 0010); the published rendition's
# duration (one index probe a row: a join would hash every rendition) and the media URL ($base is the
# public base URL) are added here.
DURATION = """coalesce(d.duration, (
    SELECT r.duration FROM renditions r WHERE r.debate_id = d.id AND r.version = d.current_version))"""
DEBATE_JSON = f"""d.listing_fields
    || ', "duration" : ' || coalesce(round({DURATION}::numeric, 3)::text, 'null')
    || ', "master_url" : ' || CASE WHEN d.current_version IS NOT NULL
                                  THEN to_json($base::text || '/hls/' || d.id || '/master.m3u8')::text
                                  ELSE 'null' END
    || '}}'"""

# The page as one JSON array (the rows past the page's size only say that more follow), and the
# listing position of its last row for the next cursor: one round trip, no Python object per row.
# The array comes as UTF-8 bytes (bytea), what the answer's body holds: never decoded, never encoded.
LIST_DEBATES_JSON = f"""{LIST_PAGE},
listed AS (
    SELECT d.starts_at, d.id, {DEBATE_JSON} AS item,
           row_number() OVER (ORDER BY {LISTING_KEY} DESC, d.id DESC) AS n
    FROM page d
)
SELECT convert_to('[' || coalesce(string_agg(item, ', ' ORDER BY n) FILTER (WHERE n < $limit), '') || ']',
                  'UTF8') AS items,
       count(*) >= $limit AS more,
       (array_agg(starts_at) FILTER (WHERE n = $limit - 1))[1] AS last_starts_at,
       (array_agg(id) FILTER (WHERE n = $limit - 1))[1] AS last_id
FROM listed
"""  # noqa: S608

GET_DEBATE = DEBATE_COLUMNS + " FROM debates d " + DEBATE_JOINS + " WHERE d.id = $1"

DEBATE_EXISTS = "SELECT EXISTS (SELECT 1 FROM debates WHERE id = $1)"

LIST_CHAPTERS = """
SELECT c.idx, c.start_s, c.end_s, c.title,
       coalesce(c.speaker_id, s.id) AS speaker_id,
       coalesce(c.speaker_name, s.name) AS speaker_name,
       coalesce(c.speaker_group, s.group_abbrev, s.group_name) AS speaker_group
FROM chapters c
LEFT JOIN speakers s ON s.id = c.speaker_id
WHERE c.debate_id = $1
ORDER BY c.idx
"""

GET_STREAM = """
SELECT d.status, d.current_version, coalesce(r.duration, d.duration) AS duration,
       r.status AS rendition_status, coalesce(r.variants, '[]'::jsonb) AS variants, p.playable,
       t.version IS NOT NULL AS has_words
FROM debates d
LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
LEFT JOIN transcripts t ON t.debate_id = d.id AND t.version = d.current_version
LEFT JOIN LATERAL (
    SELECT j.playable FROM jobs j
     WHERE j.debate_id = d.id AND j.status = 'running' AND j.playable IS NOT NULL
     ORDER BY j.created_at DESC LIMIT 1
) p ON d.current_version IS NULL
WHERE d.id = $1
"""

GET_DOWNLOAD = """
SELECT d.title, d.starts_at, d.status, d.current_version, r.status AS rendition_status
FROM debates d
LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
WHERE d.id = $1
"""

LATEST_JOB = """
SELECT id, status, stage, progress, error_category FROM jobs WHERE debate_id = $1
ORDER BY created_at DESC LIMIT 1
"""

# first page: a position after every real row
FIRST_POSITION = ("infinity", UUID(int=(1 << 128) - 1))


class DebateKey(NamedTuple):
    """Keyset position of a debate in the listing order."""

    starts_at: dt.datetime | None
    id: UUID


class DebateFilters(NamedTuple):
    chamber: str | None = None
    body: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    statuses: tuple[str, ...] = LISTED_STATUSES
    speaker_id: str | None = None
    q: str | None = None


class StreamState(NamedTuple):
    status: str
    stream: Stream | None


class DownloadTarget(NamedTuple):
    title: str
    starts_at: dt.datetime | None
    status: str
    current_version: int | None
    rendition_status: str | None


class JobHint(NamedTuple):
    id: UUID
    status: str
    stage: str | None
    progress: float
    error_category: str | None  # what the public may know of a failure (jobs/errors.py)


class DebatePageJson(NamedTuple):
    items: bytes  # a JSON array of Debate objects, UTF-8
    more: bool
    last: DebateKey | None  # the position of the page's last row


async def list_debates_json(
    conn: asyncpg.Connection,
    filters: DebateFilters,
    *,
    limit: int,
    after: DebateKey | None,
    urls: MediaUrls,
) -> DebatePageJson:
    """One page in listing order as JSON written by PostgreSQL (the same items as list_debates)."""
    sql, arguments = page_statement(LIST_DEBATES_JSON, filters, limit, after, base=urls.base)
    row = await conn.fetchrow(sql, *arguments)
    last = DebateKey(row["last_starts_at"], row["last_id"]) if row["last_id"] is not None else None
    return DebatePageJson(row["items"], row["more"], last)


def debate_from_row(row: asyncpg.Record | dict[str, Any], urls: MediaUrls) -> Debate:
    return Debate(
        id=row["id"],
        title=row["title"],
        chamber=row["chamber"],
        body=row["body"],
        starts_at=row["starts_at"],
        duration=row["duration"],
        status=row["status"],
        source_url=row["source_url"],  # robian_public_source(): only a local file's name (migration 0009)
        speakers_count=row["speakers_count"],
        chapters_count=row["chapters_count"],
        master_url=urls.master(row["id"]) if row["current_version"] is not None else None,
    )


def key_of(debate: Debate) -> DebateKey:
    return DebateKey(debate.starts_at, debate.id)


def position(after: DebateKey | None) -> tuple[str, UUID]:
    if after is None:
        return FIRST_POSITION
    return (after.starts_at.isoformat() if after.starts_at else "-infinity", after.id)


def page_statement(
    template: str, filters: DebateFilters, limit: int, after: DebateKey | None, **extra: Any
) -> Statement:
    """``template`` for these filters and this page, and its arguments (``extra``: ``base``)."""
    values = filters._asdict()
    values["statuses"] = list(filters.statuses)
    at, at_id = position(after)
    return DEBATE_FILTERS.statement(template, values, at=at, at_id=at_id, limit=limit + 1, **extra)


async def list_debates(
    conn: asyncpg.Connection,
    filters: DebateFilters,
    *,
    limit: int,
    after: DebateKey | None,
    urls: MediaUrls,
) -> tuple[list[Debate], bool]:
    """One page in listing order, and whether more rows follow."""
    sql, arguments = page_statement(LIST_DEBATES, filters, limit, after)
    rows = await conn.fetch(sql, *arguments)
    return [debate_from_row(row, urls) for row in rows[:limit]], len(rows) > limit


async def get_debate(conn: asyncpg.Connection, debate_id: UUID, urls: MediaUrls) -> Debate | None:
    row = await conn.fetchrow(GET_DEBATE, debate_id)
    return debate_from_row(row, urls) if row else None


async def debate_exists(conn: asyncpg.Connection, debate_id: UUID) -> bool:
    return bool(await conn.fetchval(DEBATE_EXISTS, debate_id))


def chapter_from_row(row: asyncpg.Record) -> Chapter:
    speaker = None
    if row["speaker_name"]:
        speaker = ChapterSpeaker(id=row["speaker_id"], name=row["speaker_name"], group=row["speaker_group"])
    return Chapter(
        index=row["idx"], start=row["start_s"], end=row["end_s"], speaker=speaker, title=row["title"]
    )


async def list_chapters(conn: asyncpg.Connection, debate_id: UUID) -> list[Chapter]:
    return [chapter_from_row(row) for row in await conn.fetch(LIST_CHAPTERS, debate_id)]


def _variant(debate_id: UUID, version: int, raw: Any, urls: MediaUrls) -> Variant | None:
    """A rung of ``renditions.variants``; entries missing what a player needs are left out."""
    if not isinstance(raw, dict) or not raw.get("uri") or not raw.get("bandwidth"):
        return None
    return Variant(
        bandwidth=int(raw["bandwidth"]),
        average_bandwidth=int(raw["average_bandwidth"]) if raw.get("average_bandwidth") else None,
        codecs=str(raw.get("codecs") or "mp4a.40.2"),
        url=urls.variant(debate_id, version, str(raw["uri"])),
    )


async def get_stream(conn: asyncpg.Connection, debate_id: UUID, urls: MediaUrls) -> StreamState | None:
    """None: no such debate. ``stream`` None: nothing published yet."""
    row = await conn.fetchrow(GET_STREAM, debate_id)
    if row is None:
        return None
    version, raw_variants, duration = row["current_version"], row["variants"], row["duration"]
    if version is None and isinstance(playable := row["playable"], dict):
        # nothing published yet, but a running job's version already plays (progressive, EVENT)
        version, raw_variants, duration = int(playable["version"]), playable["variants"], None
    if version is None:
        return StreamState(row["status"], None)
    variants = [v for raw in raw_variants if (v := _variant(debate_id, version, raw, urls)) is not None]
    stream = Stream(
        master_url=urls.master(debate_id),
        variants=variants,
        chapters_url=urls.chapters_json(debate_id, version),
        vtt_url=urls.chapters_vtt(debate_id, version),
        download_url=urls.download(debate_id),
        duration=duration,
        live=row["status"] == "live",
        subtitles_url=urls.subtitles(debate_id, version) if row["has_words"] else None,
        transcript_url=urls.transcript_vtt(debate_id, version) if row["has_words"] else None,
    )
    return StreamState(row["status"], stream)


async def latest_job(conn: asyncpg.Connection, debate_id: UUID) -> JobHint | None:
    row = await conn.fetchrow(LATEST_JOB, debate_id)
    return JobHint(**dict(row)) if row else None


async def get_download(conn: asyncpg.Connection, debate_id: UUID) -> DownloadTarget | None:
    row = await conn.fetchrow(GET_DOWNLOAD, debate_id)
    return DownloadTarget(**dict(row)) if row else None

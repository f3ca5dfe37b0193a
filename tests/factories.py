"""Rows for tests: debates with versions and chapters, speakers, jobs, agenda items.

Each helper inserts with plain SQL on the given connection and returns the new id. Values default to
something plausible; tests pass what they assert on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg

from packager.captions import build_cues
from packager.chapters import Speaker
from packager.transcript import Paragraph
from robian_media.db.migrate import migrate
from robian_media.jobs.publish import Transcript, replace_transcript
from tests.services import fresh_database

_serial = itertools.count(1)

DEFAULT_VARIANTS: list[dict[str, Any]] = [
    {
        "name": "a32",
        "kind": "fmp4",
        "uri": "a32/index.m3u8",
        "bandwidth": 41000,
        "average_bandwidth": 35000,
        "codecs": "mp4a.40.2",
    },
    {
        "name": "a64",
        "kind": "fmp4",
        "uri": "a64/index.m3u8",
        "bandwidth": 76000,
        "average_bandwidth": 68000,
        "codecs": "mp4a.40.2",
    },
    {
        "name": "a96",
        "kind": "fmp4",
        "uri": "a96/index.m3u8",
        "bandwidth": 110000,
        "average_bandwidth": 101000,
        "codecs": "mp4a.40.2",
    },
    {
        "name": "ts64",
        "kind": "ts",
        "uri": "ts64/index.m3u8",
        "bandwidth": 83000,
        "average_bandwidth": 74000,
        "codecs": "mp4a.40.2",
    },
]


# docs/architecture.md §4 Debate: exactly these fields
DEBATE_FIELDS = frozenset(
    {
        "id",
        "title",
        "chamber",
        "body",
        "starts_at",
        "duration",
        "status",
        "source_url",
        "speakers_count",
        "chapters_count",
        "master_url",
    }
)


@contextlib.contextmanager
def migrated_database(admin_dsn: str, name: str) -> Iterator[str]:
    """A new database with every migration applied, dropped afterwards."""
    with fresh_database(admin_dsn, name) as dsn:

        async def apply() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await migrate(conn)
            finally:
                await conn.close()

        asyncio.run(apply())
        yield dsn


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    return conn


async def create_speaker(
    conn: asyncpg.Connection,
    name: str,
    *,
    speaker_id: str | None = None,
    group_id: str | None = None,
    group_name: str | None = None,
    group_abbrev: str | None = None,
) -> str:
    speaker_id = speaker_id or f"PA9{uuid.uuid4().int % 10**8:08d}"
    await conn.execute(
        "INSERT INTO speakers (id, name, group_id, group_name, group_abbrev) VALUES ($1, $2, $3, $4, $5)",
        speaker_id,
        name,
        group_id,
        group_name,
        group_abbrev,
    )
    return speaker_id


async def create_debate(
    conn: asyncpg.Connection,
    *,
    title: str = "Séance publique",
    chamber: str = "AN",
    body: str | None = "Séance publique",
    description: str | None = None,
    starts_at: dt.datetime | None = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC),
    duration: float | None = 3600.0,
    status: str = "published",
    agenda_uid: str | None = None,
    version: int | None = 1,
    rendition_status: str = "published",
    variants: Sequence[dict[str, Any]] = DEFAULT_VARIANTS,
    debate_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A debate; with ``version`` (default 1) a rendition row and ``current_version`` too."""
    debate_id = debate_id or uuid.uuid4()
    source = f"https://videos.example.test/video.{next(_serial)}_{debate_id.hex[:8]}"
    await conn.execute(
        """
        INSERT INTO debates (id, title, chamber, body, description, starts_at, duration, status,
                             source_url, source_key, agenda_uid)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
        """,
        debate_id,
        title,
        chamber,
        body,
        description,
        starts_at,
        duration,
        status,
        source,
        agenda_uid,
    )
    if version is not None:
        await publish_version(
            conn, debate_id, version, status=rendition_status, variants=variants, duration=duration
        )
    return debate_id


async def publish_version(
    conn: asyncpg.Connection,
    debate_id: uuid.UUID,
    version: int,
    *,
    status: str = "published",
    variants: Sequence[dict[str, Any]] = DEFAULT_VARIANTS,
    duration: float | None = 3600.0,
) -> None:
    async with conn.transaction():
        await conn.execute(
            """
            INSERT INTO renditions (debate_id, version, status, duration, variants, published_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, CASE WHEN $3 = 'published' THEN now() END)
            """,
            debate_id,
            version,
            status,
            duration,
            list(variants),
        )
        await conn.execute("UPDATE debates SET current_version = $2 WHERE id = $1", debate_id, version)


async def create_chapters(
    conn: asyncpg.Connection, debate_id: uuid.UUID, chapters: Sequence[dict[str, Any]]
) -> None:
    """``chapters``: dicts with start, end, title, and speaker_id / speaker_name / speaker_group."""
    await conn.executemany(
        """
        INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name, speaker_group, title)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        [
            (
                debate_id,
                i,
                c["start"],
                c["end"],
                c.get("speaker_id"),
                c.get("speaker_name"),
                c.get("speaker_group"),
                c.get("title"),
            )
            for i, c in enumerate(chapters)
        ],
    )


async def create_words(
    conn: asyncpg.Connection, debate_id: uuid.UUID, texts: Sequence[str], *, version: int = 1
) -> None:
    """The debate's words as publishing stores them: one paragraph of 30 s a text, its caption cues."""
    paragraphs = [
        Paragraph(
            index=number + 1,
            start=30.0 * number,
            end=30.0 * (number + 1),
            speaker=Speaker(id=f"PA{number}", name=f"Député {number}", group="EXDS"),
            text=text,
        )
        for number, text in enumerate(texts)
    ]
    transcript = Transcript(source="request", paragraphs=paragraphs, cues=build_cues(paragraphs))
    async with conn.transaction():
        await replace_transcript(conn, debate_id, version, transcript)


async def create_job(
    conn: asyncpg.Connection,
    debate_id: uuid.UUID,
    *,
    status: str = "running",
    stage: str | None = "packaging",
    progress: float = 0.4,
    error: str | None = None,
    error_category: str | None = None,
) -> uuid.UUID:
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO jobs (kind, status, stage, progress, error, error_category, debate_id)
        VALUES ('ingest', $1, $2, $3, $4, $5, $6) RETURNING id
        """,
        status,
        stage,
        progress,
        error,
        error_category,
        debate_id,
    )


async def create_programme_item(
    conn: asyncpg.Connection,
    *,
    day: dt.date,
    title: str,
    starts_at: dt.datetime | None = None,
    agenda_uid: str | None = None,
    body: str | None = "Séance publique",
    location: str | None = "Hémicycle",
    topics: Sequence[str] = (),
    debate_id: uuid.UUID | None = None,
) -> uuid.UUID:
    return await conn.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO programme_items (agenda_uid, day, starts_at, title, body, location, topics, debate_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id
        """,
        agenda_uid,
        day,
        starts_at,
        title,
        body,
        location,
        list(topics),
        debate_id,
    )

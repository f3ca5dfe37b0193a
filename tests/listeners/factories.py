"""Rows for listener tests, inserted directly with SQL (debates, speakers, chapters)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg


async def insert_debate(
    conn: asyncpg.Connection,
    *,
    title: str = "Séance publique",
    status: str = "published",
    duration: float | None = 3600.0,
    starts_at: datetime | None = None,
    published: bool = True,
    chamber: str = "AN",
    body: str | None = "Séance publique",
) -> UUID:
    source = f"https://videos.example.test/{uuid.uuid4().hex}"
    debate_id: UUID = await conn.fetchval(
        """
        INSERT INTO debates (title, chamber, body, starts_at, duration, status, source_url, source_key,
                             current_version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
        RETURNING id
        """,
        title,
        chamber,
        body,
        starts_at or datetime(2025, 3, 4, 15, 0, tzinfo=UTC),
        duration,
        status,
        source,
        1 if published else None,
    )
    return debate_id


async def insert_speaker(conn: asyncpg.Connection, name: str) -> str:
    speaker_id = "PA" + uuid.uuid4().hex[:8]
    await conn.execute("INSERT INTO speakers (id, name) VALUES ($1, $2)", speaker_id, name)
    return speaker_id


async def insert_chapters(conn: asyncpg.Connection, debate_id: UUID, speaker_ids: list[str]) -> None:
    """One 60 s chapter per speaker id, in order."""
    await conn.executemany(
        """
        INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [(debate_id, i, i * 60.0, (i + 1) * 60.0, sid, sid) for i, sid in enumerate(speaker_ids)],
    )


DEBATE_FIELDS = {
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


def assert_debate_shape(debate: dict[str, Any], debate_id: UUID) -> None:
    """DESIGN §4 Debate, exactly these fields."""
    assert set(debate) == DEBATE_FIELDS
    assert debate["id"] == str(debate_id)

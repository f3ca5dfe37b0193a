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


def top_rung(variants: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The richest fMP4 rung (the one download.m4a and clips are cut from)."""
    fmp4 = [v for v in variants if isinstance(v, dict) and v.get("kind") == "fmp4" and v.get("uri")]
    return max(fmp4, key=lambda v: int(v.get("bandwidth") or 0), default=None)


def rung_dir(variant: dict[str, Any]) -> str:
    """``a128/index.m3u8`` → ``a128``."""
    return str(variant["uri"]).rpartition("/")[0]


async def get_clip_source(conn: asyncpg.Connection, debate_id: UUID) -> ClipSource | None:
    row = await conn.fetchrow(CLIP_SOURCE, debate_id)
    if row is None:
        return None
    variants = row["variants"]
    return ClipSource(**{**dict(row), "variants": variants if isinstance(variants, list) else []})

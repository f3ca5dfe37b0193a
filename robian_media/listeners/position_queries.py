"""Playback positions: one row per owner and debate, last writer wins by the client's updated_at.

The guard lives in the upsert's WHERE, so it holds under any concurrency: a write older than the
stored one changes nothing, and an equal one (a replay) changes nothing either. Ties on the
timestamp go to the furthest position, so the outcome never depends on arrival order. The table,
the JSON field and the event keep the API's word for a position: ``progress``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from ..catalog.models import UtcDatetime
from ..web.seconds import Seconds
from .listed_debates import missing_debates
from .play_queries import PlayTally, listened_seconds


class PositionWrite(BaseModel):
    debate_id: UUID
    position: float
    duration: float | None
    updated_at: datetime


class SavedPosition(BaseModel):
    debate_id: UUID
    position: Seconds
    duration: Seconds | None
    updated_at: UtcDatetime
    device_id: UUID | None


class WriteOutcome(BaseModel):
    debate_id: UUID
    status: Literal["applied", "stale", "not_found"]
    progress: SavedPosition | None


class ResumePoint(BaseModel):
    saved: SavedPosition
    completed: bool


# the one definition of "newer" and of what a newer write replaces, shared by writes and merges
NEWER_THAN_STORED = (
    "(progress.client_updated_at, progress.position) < (EXCLUDED.client_updated_at, EXCLUDED.position)"
)
REPLACE_STORED = """
    position = EXCLUDED.position,
    duration = coalesce(EXCLUDED.duration, progress.duration),
    client_updated_at = EXCLUDED.client_updated_at,
    device_id = EXCLUDED.device_id,
    server_updated_at = EXCLUDED.server_updated_at
"""

# the guard and the replacement are composed from the constants above only (no input): S608 is moot
UPSERT_POSITION = f"""
INSERT INTO progress AS progress
    (owner_id, debate_id, position, duration, client_updated_at, device_id, server_updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (owner_id, debate_id) DO UPDATE SET {REPLACE_STORED}
WHERE {NEWER_THAN_STORED}
RETURNING debate_id, position, duration, client_updated_at AS updated_at, device_id
"""  # noqa: S608

MERGE_POSITIONS = f"""
INSERT INTO progress AS progress
    (owner_id, debate_id, position, duration, client_updated_at, device_id, server_updated_at)
SELECT $1, debate_id, position, duration, client_updated_at, device_id, server_updated_at
FROM progress WHERE owner_id = $2
ON CONFLICT (owner_id, debate_id) DO UPDATE SET {REPLACE_STORED}
WHERE {NEWER_THAN_STORED}
"""  # noqa: S608

SELECT_POSITION = """
SELECT debate_id, position, duration, client_updated_at AS updated_at, device_id
FROM progress WHERE owner_id = $1 AND debate_id = $2
"""

# read before writing only to measure listening time; the row lock keeps that reading exact
SELECT_POSITION_FOR_UPDATE = SELECT_POSITION + "FOR UPDATE"

# completed: within a minute of the end (or the last 5 % of a short sitting)
SELECT_RESUME_POINTS = """
SELECT * FROM (
    SELECT p.debate_id, p.position, p.duration, p.client_updated_at AS updated_at, p.device_id,
           coalesce(p.position >= total - LEAST(60, 0.05 * total), false) AS completed
    FROM progress p
    JOIN debates d ON d.id = p.debate_id
    CROSS JOIN LATERAL (SELECT coalesce(p.duration, d.duration) AS total) AS t
    WHERE p.owner_id = $1
      AND ($2::timestamptz IS NULL OR (p.client_updated_at, p.debate_id) < ($2::timestamptz, $3::uuid))
) AS points
WHERE $4::boolean OR NOT completed
ORDER BY updated_at DESC, debate_id DESC
LIMIT $5
"""


def _saved_position(row: asyncpg.Record | None) -> SavedPosition | None:
    return None if row is None else SavedPosition.model_validate(dict(row))


def _same_write(stored: SavedPosition | None, write: PositionWrite) -> bool:
    return stored is not None and (stored.updated_at, stored.position) == (write.updated_at, write.position)


async def apply_writes(
    conn: asyncpg.Connection, owner_id: UUID, device_id: UUID, writes: list[PositionWrite]
) -> tuple[list[WriteOutcome], list[SavedPosition]]:
    """Apply writes in one transaction → (an outcome per write, in order; the rows that changed).

    Each outcome compares its write with the debate's final stored state: "applied" when the
    write is what is stored, "stale" when something newer is. So a replayed write or batch gets
    the same answer as the first time, and adds nothing.
    """
    missing = await missing_debates(conn, {w.debate_id for w in writes})
    stored: dict[UUID, SavedPosition | None] = {}
    changed: set[UUID] = set()
    tally = PlayTally()
    # debate order takes row locks in one order across concurrent batches (no deadlock);
    # time order within a debate makes listening seconds accrue as they were played
    for write in sorted(writes, key=lambda w: (w.debate_id, w.updated_at, w.position)):
        if write.debate_id in missing:
            continue
        if write.debate_id not in stored:
            stored[write.debate_id] = _saved_position(
                await conn.fetchrow(SELECT_POSITION_FOR_UPDATE, owner_id, write.debate_id)
            )
        before = stored[write.debate_id]
        after = _saved_position(
            await conn.fetchrow(
                UPSERT_POSITION,
                owner_id,
                write.debate_id,
                write.position,
                write.duration,
                write.updated_at,
                device_id,
            )
        )
        tally.saw_write(write.debate_id, write.updated_at)
        if after is not None:
            if before is not None:
                seconds = listened_seconds(
                    before.position, before.updated_at, after.position, after.updated_at
                )
                tally.add_listening(write.debate_id, after.updated_at, seconds)
            stored[write.debate_id] = after
            changed.add(write.debate_id)
        elif before is None:  # another transaction inserted the row since we looked
            stored[write.debate_id] = await get_position(conn, owner_id, write.debate_id)
    await tally.flush(conn, owner_id)
    return [_outcome(write, stored.get(write.debate_id), write.debate_id in missing) for write in writes], [
        saved for debate_id in sorted(changed) if (saved := stored[debate_id]) is not None
    ]


def _outcome(write: PositionWrite, final: SavedPosition | None, missing: bool) -> WriteOutcome:
    if missing:
        return WriteOutcome(debate_id=write.debate_id, status="not_found", progress=None)
    status: Literal["applied", "stale"] = "applied" if _same_write(final, write) else "stale"
    return WriteOutcome(debate_id=write.debate_id, status=status, progress=final)


async def get_position(conn: asyncpg.Connection, owner_id: UUID, debate_id: UUID) -> SavedPosition | None:
    return _saved_position(await conn.fetchrow(SELECT_POSITION, owner_id, debate_id))


async def resume_points(
    conn: asyncpg.Connection,
    owner_id: UUID,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
    include_completed: bool,
) -> list[ResumePoint]:
    at, last_id = after or (None, None)
    rows = await conn.fetch(SELECT_RESUME_POINTS, owner_id, at, last_id, include_completed, limit)
    return [
        ResumePoint(saved=SavedPosition.model_validate(dict(row)), completed=row["completed"]) for row in rows
    ]


async def merge_positions(conn: asyncpg.Connection, *, into: UUID, absorbed: UUID) -> None:
    await conn.execute(MERGE_POSITIONS, into, absorbed)

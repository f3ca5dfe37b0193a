"""An owner's favorite debates."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from ..catalog.models import UtcDatetime


class FavoriteRow(BaseModel):
    debate_id: UUID
    added_at: UtcDatetime


# DO UPDATE (a no-op) rather than DO NOTHING so a repeated PUT still returns the row
UPSERT_FAVORITE = """
INSERT INTO favorites (owner_id, debate_id) VALUES ($1, $2)
ON CONFLICT (owner_id, debate_id) DO UPDATE SET added_at = favorites.added_at
RETURNING debate_id, added_at
"""

DELETE_FAVORITE = "DELETE FROM favorites WHERE owner_id = $1 AND debate_id = $2"

# newest first; keyset on (added_at, debate_id)
SELECT_FAVORITES = """
SELECT debate_id, added_at FROM favorites
WHERE owner_id = $1
  AND ($2::timestamptz IS NULL OR (added_at, debate_id) < ($2::timestamptz, $3::uuid))
ORDER BY added_at DESC, debate_id DESC
LIMIT $4
"""

# pairing: the earliest added_at of either side survives
MERGE_FAVORITES = """
INSERT INTO favorites (owner_id, debate_id, added_at)
SELECT $1, debate_id, added_at FROM favorites WHERE owner_id = $2
ON CONFLICT (owner_id, debate_id) DO UPDATE SET added_at = LEAST(favorites.added_at, EXCLUDED.added_at)
"""


async def add_favorite(conn: asyncpg.Connection, owner_id: UUID, debate_id: UUID) -> FavoriteRow | None:
    """Idempotent; None when the debate does not exist (the caller's transaction stays usable)."""
    try:
        async with conn.transaction():  # a savepoint when nested: the violation undoes only this
            row = await conn.fetchrow(UPSERT_FAVORITE, owner_id, debate_id)
    except asyncpg.ForeignKeyViolationError as exc:
        if exc.constraint_name == "favorites_debate_id_fkey":
            return None
        raise
    return FavoriteRow.model_validate(dict(row))


async def remove_favorite(conn: asyncpg.Connection, owner_id: UUID, debate_id: UUID) -> None:
    await conn.execute(DELETE_FAVORITE, owner_id, debate_id)


async def list_favorites(
    conn: asyncpg.Connection, owner_id: UUID, *, limit: int, after: tuple[datetime, UUID] | None
) -> list[FavoriteRow]:
    at, last_id = after or (None, None)
    rows = await conn.fetch(SELECT_FAVORITES, owner_id, at, last_id, limit)
    return [FavoriteRow.model_validate(dict(row)) for row in rows]


async def merge_favorites(conn: asyncpg.Connection, *, into: UUID, absorbed: UUID) -> None:
    await conn.execute(MERGE_FAVORITES, into, absorbed)

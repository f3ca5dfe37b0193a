"""An owner's collections: named, ordered lists of debates with optional start offsets.

Every query names the owner: another owner's collection is indistinguishable from none.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel

from ..catalog.models import UtcDatetime


class CollectionRow(BaseModel):
    id: UUID
    name: str
    description: str | None
    items_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CollectionItemRow(BaseModel):
    debate_id: UUID
    start: float | None


INSERT_COLLECTION = "INSERT INTO collections (owner_id, name, description) VALUES ($1, $2, $3) RETURNING id"

UPDATE_COLLECTION = """
UPDATE collections SET name = $3, description = $4, updated_at = now()
WHERE id = $1 AND owner_id = $2
RETURNING id
"""

DELETE_COLLECTION = "DELETE FROM collections WHERE id = $1 AND owner_id = $2 RETURNING id"

# all of an owner's collections, or ($2) one of them
SELECT_COLLECTIONS = """
SELECT c.id, c.name, c.description, c.created_at, c.updated_at,
       (SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id) AS items_count
FROM collections c
WHERE c.owner_id = $1 AND ($2::uuid IS NULL OR c.id = $2::uuid)
ORDER BY c.updated_at DESC, c.id DESC
"""

DELETE_ITEMS = "DELETE FROM collection_items WHERE collection_id = $1"

INSERT_ITEMS = """
INSERT INTO collection_items (collection_id, position, debate_id, start_s)
SELECT $1, ord - 1, debate_id, start_s
FROM unnest($2::uuid[], $3::float8[]) WITH ORDINALITY AS t (debate_id, start_s, ord)
"""

SELECT_ITEMS = """
SELECT debate_id, start_s AS start FROM collection_items WHERE collection_id = $1 ORDER BY position
"""

MOVE_COLLECTIONS = "UPDATE collections SET owner_id = $1 WHERE owner_id = $2"


async def _write_items(conn: asyncpg.Connection, collection_id: UUID, items: list[CollectionItemRow]) -> None:
    await conn.execute(INSERT_ITEMS, collection_id, [i.debate_id for i in items], [i.start for i in items])


async def get_collection(
    conn: asyncpg.Connection, owner_id: UUID, collection_id: UUID
) -> CollectionRow | None:
    row = await conn.fetchrow(SELECT_COLLECTIONS, owner_id, collection_id)
    return None if row is None else CollectionRow.model_validate(dict(row))


async def collection_items(conn: asyncpg.Connection, collection_id: UUID) -> list[CollectionItemRow]:
    rows = await conn.fetch(SELECT_ITEMS, collection_id)
    return [CollectionItemRow.model_validate(dict(row)) for row in rows]


async def list_collections(conn: asyncpg.Connection, owner_id: UUID) -> list[CollectionRow]:
    rows = await conn.fetch(SELECT_COLLECTIONS, owner_id, None)
    return [CollectionRow.model_validate(dict(row)) for row in rows]


async def create_collection(
    conn: asyncpg.Connection,
    owner_id: UUID,
    *,
    name: str,
    description: str | None,
    items: list[CollectionItemRow],
) -> CollectionRow:
    async with conn.transaction():
        collection_id = await conn.fetchval(INSERT_COLLECTION, owner_id, name, description)
        await _write_items(conn, collection_id, items)
        created = await get_collection(conn, owner_id, collection_id)
    assert created is not None
    return created


async def replace_collection(
    conn: asyncpg.Connection,
    owner_id: UUID,
    collection_id: UUID,
    *,
    name: str,
    description: str | None,
    items: list[CollectionItemRow],
) -> CollectionRow | None:
    """Replace name, description and items at once; None when the owner has no such collection."""
    async with conn.transaction():
        if await conn.fetchval(UPDATE_COLLECTION, collection_id, owner_id, name, description) is None:
            return None
        await conn.execute(DELETE_ITEMS, collection_id)
        await _write_items(conn, collection_id, items)
        return await get_collection(conn, owner_id, collection_id)


async def delete_collection(conn: asyncpg.Connection, owner_id: UUID, collection_id: UUID) -> bool:
    return await conn.fetchval(DELETE_COLLECTION, collection_id, owner_id) is not None


async def move_collections(conn: asyncpg.Connection, *, into: UUID, absorbed: UUID) -> None:
    await conn.execute(MOVE_COLLECTIONS, into, absorbed)

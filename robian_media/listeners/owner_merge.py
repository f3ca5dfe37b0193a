"""Merging two owners when a device redeems a pairing code: nothing of either side is lost."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from .collection_queries import move_collections
from .favorite_queries import merge_favorites
from .play_queries import merge_owner_plays
from .position_queries import merge_positions

# FOR UPDATE waits for the writers holding KEY SHARE on either owner, and holds new ones off,
# so the copy below sees every committed write and none lands on the absorbed owner afterwards
LOCK_OWNERS = "SELECT id FROM owners WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
MOVE_DEVICES = "UPDATE devices SET owner_id = $1 WHERE owner_id = $2"
DELETE_OWNER = "DELETE FROM owners WHERE id = $1"


async def lock_owners(conn: asyncpg.Connection, *owner_ids: UUID) -> bool:
    """Hold these owners until the transaction ends; False when one no longer exists (merged away)."""
    wanted = set(owner_ids)
    return len(await conn.fetch(LOCK_OWNERS, list(wanted))) == len(wanted)


async def merge_owner(conn: asyncpg.Connection, *, into: UUID, absorbed: UUID) -> None:
    """Move the absorbed owner's devices and data into ``into``; the caller holds both (lock_owners)."""
    await conn.execute(MOVE_DEVICES, into, absorbed)
    await merge_favorites(conn, into=into, absorbed=absorbed)
    await merge_positions(conn, into=into, absorbed=absorbed)
    await move_collections(conn, into=into, absorbed=absorbed)
    await merge_owner_plays(conn, into=into, absorbed=absorbed)
    await conn.execute(DELETE_OWNER, absorbed)

"""What :mod:`.device_auth` reads to know who a request speaks for: the listener behind a device token,
and the owner a write holds while it runs (devices and owners belong to the listeners feature)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel

# last_seen_at is refreshed at most this often: a write per request would be wasted I/O
TOUCH_INTERVAL_S = 3600


class Listener(BaseModel):
    """Who a device token speaks for."""

    device_id: UUID
    owner_id: UUID


SELECT_LISTENER_BY_HASH = """
SELECT id, owner_id, last_seen_at < now() - make_interval(secs => $2) AS stale
FROM devices WHERE token_hash = $1 AND revoked_at IS NULL
"""

TOUCH_DEVICE = "UPDATE devices SET last_seen_at = now() WHERE id = $1"

# KEY SHARE: many writers at once, but an owner merge (FOR UPDATE) waits for them and they for it
LOCK_OWNER_SHARED = "SELECT id FROM owners WHERE id = $1 FOR KEY SHARE"


async def listener_by_token(conn: asyncpg.Connection, token_hash: bytes) -> Listener | None:
    row = await conn.fetchrow(SELECT_LISTENER_BY_HASH, token_hash, TOUCH_INTERVAL_S)
    if row is None:
        return None
    if row["stale"]:
        await conn.execute(TOUCH_DEVICE, row["id"])
    return Listener(device_id=row["id"], owner_id=row["owner_id"])


async def lock_owner_shared(conn: asyncpg.Connection, owner_id: UUID) -> bool:
    """Hold the owner for this transaction; False when it was merged into another meanwhile."""
    return await conn.fetchval(LOCK_OWNER_SHARED, owner_id) is not None

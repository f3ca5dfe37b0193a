"""Owners (the person) and their devices (each with a hashed bearer token)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel

from ..catalog.models import UtcDatetime

# last_seen_at is refreshed at most this often: a write per request would be wasted I/O
TOUCH_INTERVAL_S = 3600


class Listener(BaseModel):
    """Who a device token speaks for."""

    device_id: UUID
    owner_id: UUID


class Device(BaseModel):
    id: UUID
    owner_id: UUID
    created_at: UtcDatetime
    last_seen_at: UtcDatetime


# one statement: a device never exists without its owner
INSERT_OWNER_AND_DEVICE = """
WITH owner AS (INSERT INTO owners DEFAULT VALUES RETURNING id)
INSERT INTO devices (owner_id, token_hash) SELECT id, $1 FROM owner
RETURNING id, owner_id, created_at, last_seen_at
"""

SELECT_LISTENER_BY_HASH = """
SELECT id, owner_id, last_seen_at < now() - make_interval(secs => $2) AS stale
FROM devices WHERE token_hash = $1 AND revoked_at IS NULL
"""

TOUCH_DEVICE = "UPDATE devices SET last_seen_at = now() WHERE id = $1"

SELECT_OWNER_DEVICES = """
SELECT id, owner_id, created_at, last_seen_at FROM devices
WHERE owner_id = $1 AND revoked_at IS NULL
ORDER BY created_at, id
"""

REVOKE_DEVICE = """
UPDATE devices SET revoked_at = now()
WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL
RETURNING id
"""

# KEY SHARE: many writers at once, but an owner merge (FOR UPDATE) waits for them and they for it
LOCK_OWNER_SHARED = "SELECT id FROM owners WHERE id = $1 FOR KEY SHARE"


async def create_device(conn: asyncpg.Connection, token_hash: bytes) -> Device:
    row = await conn.fetchrow(INSERT_OWNER_AND_DEVICE, token_hash)
    return Device.model_validate(dict(row))


async def listener_by_token(conn: asyncpg.Connection, token_hash: bytes) -> Listener | None:
    row = await conn.fetchrow(SELECT_LISTENER_BY_HASH, token_hash, TOUCH_INTERVAL_S)
    if row is None:
        return None
    if row["stale"]:
        await conn.execute(TOUCH_DEVICE, row["id"])
    return Listener(device_id=row["id"], owner_id=row["owner_id"])


async def owner_devices(conn: asyncpg.Connection, owner_id: UUID) -> list[Device]:
    return [Device.model_validate(dict(row)) for row in await conn.fetch(SELECT_OWNER_DEVICES, owner_id)]


async def revoke_device(conn: asyncpg.Connection, device_id: UUID, owner_id: UUID) -> bool:
    """Revoke one of the owner's devices; False when the owner has no such (live) device."""
    return await conn.fetchval(REVOKE_DEVICE, device_id, owner_id) is not None


async def lock_owner_shared(conn: asyncpg.Connection, owner_id: UUID) -> bool:
    """Hold the owner for this transaction; False when it was merged into another meanwhile."""
    return await conn.fetchval(LOCK_OWNER_SHARED, owner_id) is not None

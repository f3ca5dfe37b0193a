"""Owners (the person) and their devices (each with a hashed bearer token); looking a token up,
which every request of a listener does, is the core's (web/listener_queries.py)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel

from ..catalog.models import UtcDatetime


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


async def create_device(conn: asyncpg.Connection, token_hash: bytes) -> Device:
    row = await conn.fetchrow(INSERT_OWNER_AND_DEVICE, token_hash)
    return Device.model_validate(dict(row))


async def owner_devices(conn: asyncpg.Connection, owner_id: UUID) -> list[Device]:
    return [Device.model_validate(dict(row)) for row in await conn.fetch(SELECT_OWNER_DEVICES, owner_id)]


async def revoke_device(conn: asyncpg.Connection, device_id: UUID, owner_id: UUID) -> bool:
    """Revoke one of the owner's devices; False when the owner has no such (live) device."""
    return await conn.fetchval(REVOKE_DEVICE, device_id, owner_id) is not None

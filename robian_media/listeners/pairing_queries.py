"""Pairing codes: short-lived, single-use, stored hashed; each device holds at most one live code."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

# a device asking again replaces its previous code; day-old codes of anyone are swept on the way
DELETE_OLD_CODES = """
DELETE FROM pairing_codes WHERE device_id = $1 OR expires_at < now() - interval '1 day'
"""

INSERT_CODE = """
INSERT INTO pairing_codes (code_hash, owner_id, device_id, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
ON CONFLICT (code_hash) DO NOTHING
RETURNING expires_at
"""

SELECT_LIVE_CODE_OWNER = """
SELECT owner_id FROM pairing_codes WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now()
"""

# single use under concurrency: only one UPDATE can flip used_at from NULL
CLAIM_CODE = """
UPDATE pairing_codes SET used_at = now()
WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING owner_id
"""


async def store_code(
    conn: asyncpg.Connection, *, code_hash: bytes, owner_id: UUID, device_id: UUID, ttl_s: int
) -> datetime | None:
    """Store a fresh code (the caller's previous one is dropped) → its expiry; None on a hash collision."""
    async with conn.transaction():
        await conn.execute(DELETE_OLD_CODES, device_id)
        expires_at: datetime | None = await conn.fetchval(
            INSERT_CODE, code_hash, owner_id, device_id, float(ttl_s)
        )
        return expires_at


async def live_code_owner(conn: asyncpg.Connection, code_hash: bytes) -> UUID | None:
    """Who a live code links to, without using it."""
    owner_id: UUID | None = await conn.fetchval(SELECT_LIVE_CODE_OWNER, code_hash)
    return owner_id


async def claim_code(conn: asyncpg.Connection, code_hash: bytes) -> UUID | None:
    """Use a live code → the owner it links to; None when unknown, expired or already used."""
    owner_id: UUID | None = await conn.fetchval(CLAIM_CODE, code_hash)
    return owner_id

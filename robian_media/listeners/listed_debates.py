"""Debates of the listener lists (favorites, continue listening, collections, trending), by id.

Rows and their mapping are the metadata API's (``catalog/debate_queries.py``): the same Debate everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from ..catalog.debate_queries import DEBATE_COLUMNS, DEBATE_JOINS, debate_from_row
from ..catalog.models import Debate
from ..media.urls import MediaUrls

SELECT_DEBATES_BY_ID = DEBATE_COLUMNS + " FROM debates d " + DEBATE_JOINS + " WHERE d.id = ANY($1::uuid[])"

SELECT_MISSING_DEBATES = """
SELECT wanted.id FROM unnest($1::uuid[]) AS wanted (id)
WHERE NOT EXISTS (SELECT 1 FROM debates d WHERE d.id = wanted.id)
"""


async def debates_by_id(conn: asyncpg.Connection, ids: Iterable[UUID], urls: MediaUrls) -> dict[UUID, Debate]:
    rows = await conn.fetch(SELECT_DEBATES_BY_ID, list(set(ids)))
    return {row["id"]: debate_from_row(row, urls) for row in rows}


async def missing_debates(conn: asyncpg.Connection, ids: Iterable[UUID]) -> set[UUID]:
    return {row["id"] for row in await conn.fetch(SELECT_MISSING_DEBATES, list(set(ids)))}

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.factories import connect


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this run's database, for factories and direct checks."""
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
def marker() -> str:
    """A value of this test's own (a chamber, a group, a word) so rows of other tests never match."""
    return "T" + uuid.uuid4().hex[:10]

"""Connection pool creation shared by the server, the worker and the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg

from ..settings import Settings
from .embedded import embedded_postgres
from .migrate import migrate
from .unavailable import CONNECT_TIMEOUT_S


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@asynccontextmanager
async def database_dsn(settings: Settings) -> AsyncIterator[str]:
    """The configured DSN, or an embedded server's for as long as the context lives."""
    if settings.database_url:
        yield settings.database_url
        return
    async with embedded_postgres(settings.data_dir) as dsn:
        yield dsn


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        timeout=CONNECT_TIMEOUT_S,
        command_timeout=30,
        max_inactive_connection_lifetime=300,
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query: read sessions never change their state."""


async def create_read_pool(dsn: str, *, max_size: int = 10) -> asyncpg.Pool:
    """Read-only sessions for the API's queries.

    ``default_transaction_read_only`` makes any write through them fail loudly, which is what lets
    a release skip the reset round trip (``SELECT pg_advisory_unlock_all(); CLOSE ALL; …``) that
    the default pool pays on every release. The server enforces the time limit (no client timer
    armed per query).
    """
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        init=_init_connection,
        timeout=CONNECT_TIMEOUT_S,
        reset=_keep_session,
        max_inactive_connection_lifetime=300,
        server_settings={"default_transaction_read_only": "on", "statement_timeout": "30s"},
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def migrated_pool(settings: Settings) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """DSN (embedded or configured), migrations applied, a pool open: what every entry point needs."""
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(database_dsn(settings))
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        pool = await create_pool(dsn)
        stack.push_async_callback(pool.close)
        yield dsn, pool


async def apply_migrations(settings: Settings) -> list[str]:
    """``robian-media migrate``: the migrations applied now (none when the schema is up to date)."""
    async with database_dsn(settings) as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            return await migrate(conn)
        finally:
            await conn.close()

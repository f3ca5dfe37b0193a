from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.factories import connect, migrated_database
from tests.services import RedisServer, postgres_server

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
RUN_ID = uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def database_url(pg_admin_dsn: str) -> Iterator[str]:
    """One migrated database for this test run, dropped at the end."""
    with migrated_database(pg_admin_dsn, f"robian_test_{RUN_ID}") as dsn:
        yield dsn


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this run's database, for factories and direct checks."""
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("ROBIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"robian-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    await delete_redis_keys(redis_url, prefix)


async def delete_redis_keys(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "redis_prefix": redis_prefix,
            "data_dir": tmp_path / "data",
            "admin_token": ADMIN_TOKEN,
            "ingest_allow_private": True,
            "public_base_url": "http://media.test",
            "log_json": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], settings: Settings
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(settings))

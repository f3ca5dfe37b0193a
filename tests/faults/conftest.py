"""Fault injection against real processes: each fault is injected and healed inside its test."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.ingest.conftest import empty_queue, ingest_settings, media, origin  # noqa: F401 (fixtures)
from tests.services import PostgresServer

LIGHT_LADDER = Path(__file__).resolve().parents[1] / "ingest" / "ladder-light.json"


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL only this test uses, so it can be stopped (not under pytest's 0700 basetemp)."""
    directory = Path(tempfile.mkdtemp(prefix="robian-faults-pg-"))
    server = PostgresServer(directory).init().start()
    try:
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def timed_get(
    http: aiohttp.ClientSession, url: str, **kwargs: Any
) -> tuple[int, str, dict[str, Any] | None, float]:
    """(status, content type, JSON body or None, seconds)."""
    started = time.monotonic()
    async with http.get(url, **kwargs) as response:
        body = await response.json(content_type=None) if response.content_length != 0 else None
        return response.status, response.content_type, body, time.monotonic() - started


async def eventually(check: Any, timeout: float, interval: float = 0.2) -> Any:
    """Await ``check()`` until it returns something truthy; its last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.ingest import conftest as ingest_fixtures
from tests.ingest.origin import Origin
from tests.live.source import LiveSourcePublisher

# the ingest tests' fixtures: the origin, its media, settings with fast workers, an empty queue
media = ingest_fixtures.media
origin = ingest_fixtures.origin
ingest_settings = ingest_fixtures.ingest_settings
empty_queue = ingest_fixtures.empty_queue

SPEECH_FAST = Path(__file__).resolve().parents[2] / "config" / "ladders" / "speech-fast.json"


@pytest.fixture
async def publisher(media: Path, origin: Origin) -> AsyncIterator[LiveSourcePublisher]:
    """A live source served by the test origin at ``/files/live/playlist.m3u8``."""
    source = LiveSourcePublisher(media / "speech.m4a", media / "live")
    source.clear()
    await source.start()
    await source.wait_playlist()
    yield source
    await source.kill()
    source.clear()


@pytest.fixture
def live_settings(ingest_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ladder": str(SPEECH_FAST),
            "live_source_poll_seconds": 0.2,
            "live_stall_seconds": 4.0,
            "cache_enabled": False,
        }
        values.update(overrides)
        return ingest_settings(**values)

    return make


@pytest.fixture
async def live_client(
    aiohttp_client: Callable[..., Any], live_settings: Callable[..., Settings]
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(live_settings()))

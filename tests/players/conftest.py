"""The player matrix's sittings: the demo-style VOD packaged once (speech ladder), and the live tests'
fixtures (a local source with 2 s segments, the app with the live feature) for the live sitting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from packager.synth import STARTS_AT, Sitting
from packager.vod import package
from robian_media.app import create_app
from tests.live import conftest as live_fixtures
from tests.packager import conftest as packager_fixtures
from tests.players.players import missing_tools

ffmpeg = packager_fixtures.ffmpeg
sitting = packager_fixtures.sitting
media = live_fixtures.media
origin = live_fixtures.origin
ingest_settings = live_fixtures.ingest_settings
empty_queue = live_fixtures.empty_queue
publisher = live_fixtures.publisher
live_settings = live_fixtures.live_settings
live_client = live_fixtures.live_client

VOD_DEBATE = "vod-sitting"


@pytest.fixture(scope="session", autouse=True)
def players_installed() -> None:
    missing = missing_tools()
    assert not missing, f"missing {', '.join(missing)}: run bash tests/setup-machine.sh"


@pytest.fixture(scope="session")
def vod_root(tmp_path_factory: pytest.TempPathFactory, sitting: Sitting, ffmpeg: str) -> Path:
    """A media root holding the synthesised sitting (4 speakers, ~37 s) packaged with the speech ladder."""
    root = tmp_path_factory.mktemp("players-media")
    asyncio.run(
        package(
            sitting.path,
            root / VOD_DEBATE,
            ladder="speech",
            chapters=sitting.chapters,
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
        )
    )
    return root


@pytest.fixture
async def vod_server(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Any], vod_root: Path
) -> TestClient[web.Request, web.Application]:
    """The app answering /hls/ itself (no nginx), as `robian-media serve` does."""
    return await aiohttp_client(create_app(make_settings(media_root_dir=vod_root)))

"""The player matrix's sittings: the demo-style VOD packaged once (speech ladder), a recorded live sitting
with an outage re-cut at its compte rendu's chapters, and the live tests' fixtures (a local source with
2 s segments, the app with the live feature) for the live sitting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from packager.chapters import ChapterIn, Speaker
from packager.ladder import load_ladder
from packager.recut import recut
from packager.synth import STARTS_AT, TEXT, Sitting
from packager.transcript import TranscriptIn
from packager.vod import package
from robian_media.app import create_app
from tests.live import conftest as live_fixtures
from tests.packager import conftest as packager_fixtures
from tests.packager.recordings import outage, record
from tests.players.players import missing_tools

ffmpeg = packager_fixtures.ffmpeg
sitting = packager_fixtures.sitting
source_segments = packager_fixtures.source_segments
media = live_fixtures.media
origin = live_fixtures.origin
ingest_settings = live_fixtures.ingest_settings
empty_queue = live_fixtures.empty_queue
publisher = live_fixtures.publisher
live_settings = live_fixtures.live_settings
live_client = live_fixtures.live_client

VOD_DEBATE = "vod-sitting"
RECUT_DEBATE = "recut-sitting"


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


@dataclass(frozen=True)
class RecutSitting:
    """A recording with an outage, re-cut: where its audio stops and comes back, and how long it lasts."""

    root: Path  # the media root: the debate is RECUT_DEBATE, v1 the recording, v2 (current) the re-cut
    outage: tuple[float, float]  # seconds from the start: the first GAP segment's start, the audio's return
    duration: float  # the recording's length (its playlists' total, GAP segments included), which v2 keeps


@pytest.fixture(scope="session")
def recut_sitting(
    tmp_path_factory: pytest.TempPathFactory, source_segments: list[bytes], ffmpeg: str
) -> RecutSitting:
    """A live sitting recorded with the speech ladder (2 s of audio, a 10 s outage, 10 s more: a player
    that stops at the outage or ignores a seek past it misses most of the audio), then its compte rendu
    attached: v2, re-cut at chapters one of which starts in the outage, with the words."""
    root = tmp_path_factory.mktemp("players-recut")
    debate_dir = root / RECUT_DEBATE
    ladder = load_ladder("speech")
    seen, _ = asyncio.run(record(debate_dir, ladder, ffmpeg, source_segments, outage_after=1))
    (recording,) = seen["recording"]
    names = ["Yaël Braun-Pivet", "Marc Fesneau", "Aurore Bergé", "Boris Vallaud"]
    chapters = [
        ChapterIn(start=start, speaker=Speaker(id=f"PA{i}", name=name))
        for i, (start, name) in enumerate(zip((0.0, 1.0, 7.0, 16.0), names, strict=True))
    ]
    words = [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in chapters]
    result = asyncio.run(recut(debate_dir, ladder=ladder, chapters=chapters, transcript=words, ffmpeg=ffmpeg))
    assert result.version == 2
    # where the recording has its outage, and its length: what the re-cut keeps
    return RecutSitting(root, outage(debate_dir / "v1" / "a64"), recording.duration)


@pytest.fixture
async def recut_server(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Any], recut_sitting: RecutSitting
) -> TestClient[web.Request, web.Application]:
    """The app answering /hls/ for the re-cut recording, as for the VOD sitting."""
    return await aiohttp_client(create_app(make_settings(media_root_dir=recut_sitting.root)))

"""A sitting packaged once per run (the real packager, the speech ladder) and published as a debate of
the test's own: rows in PostgreSQL and its version directory under the test's media root."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from packager.chapters import Chapter
from packager.rendition import Rendition
from packager.synth import STARTS_AT
from robian_media.settings import Settings
from tests.factories import create_debate
from tests.packager.conftest import ffmpeg, packaged, sitting  # noqa: F401  (fixtures shared with the packager tests)

FRAME = 1024 / 48000  # one AAC frame of the 48 kHz top rung


@pytest.fixture(scope="session")
def rendition(packaged: Rendition) -> Rendition:  # noqa: F811
    """The sitting packaged once with the speech ladder (the packager tests' own)."""
    return packaged


@dataclass
class PublishedDebate:
    id: uuid.UUID
    chapters: list[Chapter]
    duration: float
    version_dir: Path


async def insert_chapters(conn: asyncpg.Connection, debate_id: uuid.UUID, chapters: list[Chapter]) -> None:
    await conn.executemany(
        "INSERT INTO speakers (id, name, group_abbrev) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        {(c.speaker.id, c.speaker.name, c.speaker.group) for c in chapters if c.speaker.id},
    )
    await conn.executemany(
        """
        INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name, speaker_group, title)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        [
            (debate_id, c.index, c.start, c.end, c.speaker.id, c.speaker.name, c.speaker.group, c.title)
            for c in chapters
        ],
    )


async def publish_rendition(
    conn: asyncpg.Connection,
    settings: Settings,
    rendition: Rendition,
    *,
    title: str = "Séance publique du 15 janvier",
    body: str = "Séance publique",
    chamber: str = "AN",
    starts_at: dt.datetime = STARTS_AT,
    chapters: list[Chapter] | None = None,
) -> PublishedDebate:
    chapters = rendition.chapters if chapters is None else chapters
    debate_id = await create_debate(
        conn,
        title=title,
        body=body,
        chamber=chamber,
        starts_at=starts_at,
        duration=rendition.duration,
        variants=[asdict(v) for v in rendition.variants],
    )
    await insert_chapters(conn, debate_id, chapters)
    version_dir = settings.media_root / str(debate_id) / "v1"
    shutil.copytree(rendition.directory, version_dir)
    return PublishedDebate(debate_id, chapters, rendition.duration, version_dir)


@pytest.fixture
async def published(db: asyncpg.Connection, settings: Settings, rendition: Rendition) -> PublishedDebate:
    return await publish_rendition(db, settings, rendition)


def ffprobe(path: Path) -> dict[str, Any]:
    """What ffprobe (the system's FFmpeg 5.1) reads in a file: format, streams, chapters."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-of",
            "json",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def decodes(path: Path) -> None:
    """The whole file decodes without a single error."""
    err = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    assert not err.strip(), err

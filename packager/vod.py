"""VOD: one source file packaged as a debate's next version (packager/rendition.py builds it) and published
(packager/versions.py). Its live counterpart is ``packager.live.recorder.record_live``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from packager.captions import Cue
from packager.chapters import Chapter, ChapterIn
from packager.ladder import Ladder
from packager.loudness import Loudness, LoudnessTarget
from packager.playlists import MASTER_NAME, Variant
from packager.rendition import ProgressCallback, build_rendition
from packager.threads import run_blocking
from packager.transcript import Paragraph, TranscriptIn
from packager.versions import (
    DEFAULT_KEEP,
    allocate_version,
    complete_versions,
    debate_lock,
    finish_version,
    point_master,
    restore_version,
)


@dataclass
class PackageResult:
    """A published version, with what the server stores and announces about it."""

    version: int
    duration: float
    variants: list[Variant]
    chapters: list[Chapter]  # normalised, start times moved onto their segment starts
    debate_dir: Path
    version_dir: Path
    loudness: Loudness | None = None
    timings: dict[str, float] = field(default_factory=dict)
    transcript: list[Paragraph] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)

    @property
    def master(self) -> Path:
        return self.debate_dir / MASTER_NAME

    @property
    def version_master(self) -> Path:
        return self.version_dir / MASTER_NAME

    @property
    def chapters_json(self) -> Path:
        return self.version_dir / "chapters.json"

    @property
    def chapters_vtt(self) -> Path:
        return self.version_dir / "chapters.vtt"

    @property
    def download(self) -> Path:
        return self.version_dir / "download.m4a"


async def package(
    source: Path,
    debate_dir: Path,
    *,
    ladder: Ladder | str | Path = "speech",
    chapters: Sequence[ChapterIn] = (),
    starts_at: datetime | None = None,
    ffmpeg: str | None = None,
    loudness: LoudnessTarget | None = None,
    on_progress: ProgressCallback | None = None,
    keep: int = DEFAULT_KEEP,
    processes: int | None = None,
    title: str | None = None,
    on_playable: Callable[[int, list[Variant]], None] | None = None,
    transcript: Sequence[TranscriptIn] = (),
) -> PackageResult:
    """Package `source` as the next version of `debate_dir` and publish it (packager/versions.py says how).

    When nothing is published yet, the debate's master points at the version being made as soon as
    every rung has a segment, and `on_playable(version, nominal variants)` is called then.

    Raises MediaError, ChapterError, TranscriptError, LadderError, FFmpegError, ValidationError,
    DebateBusyError; cancelling the awaiting task stops FFmpeg, removes the partial version and
    restores the previous one.
    """
    with debate_lock(debate_dir):
        version = await asyncio.to_thread(allocate_version, debate_dir)
        version_dir = debate_dir / f"v{version}"
        has_complete = bool(await asyncio.to_thread(complete_versions, debate_dir))

        playable: Callable[[list[Variant]], None] | None = None
        if not has_complete:
            # Nothing published yet: let players start on the version being made.
            def playable(variants: list[Variant]) -> None:
                point_master(debate_dir, version)
                if on_playable is not None:
                    on_playable(version, variants)

        try:
            rendition = await build_rendition(
                source,
                version_dir,
                ladder=ladder,
                chapters=chapters,
                starts_at=starts_at,
                ffmpeg=ffmpeg,
                loudness=loudness,
                on_progress=on_progress,
                on_playable=playable,
                processes=processes,
                title=title,
                transcript=transcript,
            )
            await run_blocking(finish_version, debate_dir, version, keep)
        except BaseException:
            # Synchronous on purpose: this must complete even while the task is being cancelled.
            restore_version(debate_dir, version)
            raise
        return PackageResult(
            version=version,
            duration=rendition.duration,
            variants=rendition.variants,
            chapters=rendition.chapters,
            debate_dir=debate_dir,
            version_dir=version_dir,
            loudness=rendition.loudness,
            timings=rendition.timings,
            transcript=rendition.transcript,
            cues=rendition.cues,
        )

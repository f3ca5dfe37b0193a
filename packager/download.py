"""download.m4a: the top fMP4 rung remuxed (no re-encode) into one MP4 with chapters, moov first."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from packager.chapters import Chapter, ffmetadata
from packager.ffmpeg import run_ffmpeg
from packager.threads import run_blocking

DOWNLOAD_NAME = "download.m4a"
_CHUNK = 1 << 20


async def write_download(
    ffmpeg: str,
    parts: Sequence[Path],
    version_dir: Path,
    chapters: Sequence[Chapter],
    *,
    title: str | None = None,
    on_time: Callable[[float], None] | None = None,
) -> Path:
    """download.m4a from an init segment and its media segments, in order: concatenated (a valid
    fragmented MP4), remuxed with chapters, renamed into place.

    The concatenation goes through a temporary file rather than FFmpeg's stdin: FFmpeg 5.1 reads a pipe
    input next to a second input (the chapters) at a crawl (32 s instead of 0.5 s for 10 minutes).
    """
    metadata = version_dir / ".download.ffmeta"
    joined = version_dir / ".download.src.mp4"
    tmp = version_dir / f".{DOWNLOAD_NAME}.tmp"
    target = version_dir / DOWNLOAD_NAME
    try:
        await run_blocking(_prepare_inputs, parts, joined, metadata, ffmetadata(chapters, title))
        await run_ffmpeg(
            ffmpeg,
            [
                "-v",
                "error",
                "-y",
                "-f",
                "mp4",
                "-i",
                str(joined),
                "-f",
                "ffmetadata",
                "-i",
                str(metadata),
                "-map",
                "0:a",
                "-map_metadata",
                "1",
                "-map_chapters",
                "1",
                "-c",
                "copy",
                "-movflags",
                "+faststart",
                "-f",
                "ipod",
                str(tmp),
            ],
            on_time=on_time,
        )
        os.replace(tmp, target)
    finally:
        for leftover in (metadata, joined, tmp):
            leftover.unlink(missing_ok=True)
    return target


def _prepare_inputs(parts: Sequence[Path], joined: Path, metadata: Path, ffmeta: str) -> None:
    metadata.write_text(ffmeta, encoding="utf-8")
    with open(joined, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, _CHUNK)

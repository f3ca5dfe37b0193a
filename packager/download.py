"""download.m4a: the top fMP4 rung remuxed (no re-encode) into one MP4 with chapters, moov first."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from packager.chapters import Chapter, ffmetadata
from packager.ffmpeg import run_ffmpeg
from packager.segmenter import INIT_NAME, RungOutput

DOWNLOAD_NAME = "download.m4a"
_CHUNK = 1 << 20


async def write_download(
    ffmpeg: str,
    rung: RungOutput,
    version_dir: Path,
    chapters: Sequence[Chapter],
    *,
    title: str | None = None,
    on_time: Callable[[float], None] | None = None,
) -> Path:
    """Stream init + segments into FFmpeg's stdin (no temporary copy) and rename the result into place."""
    metadata = version_dir / ".download.ffmeta"
    tmp = version_dir / f".{DOWNLOAD_NAME}.tmp"
    target = version_dir / DOWNLOAD_NAME
    await asyncio.to_thread(metadata.write_text, ffmetadata(chapters, title), encoding="utf-8")
    parts = [rung.directory / INIT_NAME, *(rung.directory / segment.uri for segment in rung.segments)]

    async def feed(stdin: asyncio.StreamWriter) -> None:
        try:
            for part in parts:
                with open(part, "rb") as handle:  # noqa: ASYNC230 - small local reads between drains
                    while chunk := handle.read(_CHUNK):
                        stdin.write(chunk)
                        await stdin.drain()
        finally:
            stdin.close()

    try:
        await run_ffmpeg(
            ffmpeg,
            [
                "-v",
                "error",
                "-y",
                "-f",
                "mp4",
                "-i",
                "pipe:0",
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
            stdin_feed=feed,
        )
        os.replace(tmp, target)
    finally:
        metadata.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return target

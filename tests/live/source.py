"""A live source on 127.0.0.1: FFmpeg publishing a growing HLS live playlist in real time.

FFmpeg reads a speech file in a loop at real-time speed (``-re``) and writes 2 s TS segments with a
PROGRAM-DATE-TIME each, the last few listed (``delete_segments``), into a directory an HTTP server
serves; killing it and starting it again is a source outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

PLAYLIST = "playlist.m3u8"


class LiveSourcePublisher:
    def __init__(self, speech: Path, directory: Path, *, segment_seconds: float = 2.0) -> None:
        self.speech = speech
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.proc: asyncio.subprocess.Process | None = None
        self.runs = 0

    def argv(self) -> list[str]:
        self.runs += 1
        return [
            "ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(self.speech),
            "-map", "0:a:0", "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "48000",
            "-f", "hls", "-hls_time", str(self.segment_seconds), "-hls_list_size", "6",
            "-hls_flags", "delete_segments+program_date_time+omit_endlist",
            "-hls_segment_filename", str(self.directory / f"r{self.runs}_%d.ts"),
            str(self.directory / PLAYLIST),
        ]  # fmt: skip

    async def start(self) -> LiveSourcePublisher:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        return self

    async def wait_playlist(self, segments: int = 1, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(FileNotFoundError):
                    if (self.directory / PLAYLIST).read_text().count("#EXTINF") >= segments:
                        return
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """The source dies: its playlist stays as it was, no segment is added."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        self.proc = None

    async def end(self) -> None:
        """The source ends cleanly: FFmpeg's playlist gets its ENDLIST."""
        await self.kill()
        path = self.directory / PLAYLIST
        path.write_text(path.read_text() + "#EXT-X-ENDLIST\n")

    async def restart(self) -> None:
        """A new publisher over the old one's directory (FFmpeg restarts its media sequence)."""
        await self.kill()
        (self.directory / PLAYLIST).unlink(missing_ok=True)
        await self.start()

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

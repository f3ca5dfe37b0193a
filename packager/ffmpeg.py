"""Running FFmpeg: argv lists, progress from `-progress pipe:1`, probing; the child itself is started,
drained and stopped by packager/process.py."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from packager.process import die_with_parent, drain_stderr, stop_process

T = TypeVar("T")
STDERR_TAIL = 20
_STOP_GRACE = 2.0
_DURATION = re.compile(r"Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VERSION = re.compile(r"ffmpeg version n?(\d+)\.")
_majors: dict[str, int] = {}
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+).*?, (\d+) Hz, ([^,]+)")


class FFmpegError(RuntimeError):
    """FFmpeg exited with an error; `stderr_tail` holds its last lines."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: Sequence[str]) -> None:
        tail = "\n".join(stderr_tail)
        super().__init__(f"{message} (exit {returncode})" + (f":\n{tail}" if tail else ""))
        self.returncode = returncode
        self.stderr_tail = list(stderr_tail)


class MediaError(ValueError):
    """The source cannot be packaged: missing, unreadable, corrupt, or without audio."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    codec: str
    sample_rate: int
    channels: str


def default_ffmpeg() -> str:
    """FFmpeg 9 from the imageio-ffmpeg wheel if installed (multi-threaded, faster), else `ffmpeg` on PATH."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found is None:
            raise FileNotFoundError("no FFmpeg: install imageio-ffmpeg or put ffmpeg on PATH") from None
        return found


async def ffmpeg_major(ffmpeg: str) -> int:
    """The major version of ``ffmpeg`` (0 when it does not say, as git builds do), asked once per binary."""
    if ffmpeg not in _majors:
        proc = await asyncio.create_subprocess_exec(
            *die_with_parent(),
            ffmpeg,
            "-hide_banner",
            "-version",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate()
        found = _VERSION.match(out.decode("utf-8", "replace"))
        _majors[ffmpeg] = int(found.group(1)) if found else 0
    return _majors[ffmpeg]


async def _read_progress(stream: asyncio.StreamReader, on_time: Callable[[float], None] | None) -> float:
    """Consume `-progress pipe:1` key=value lines; report and return the last out_time in seconds."""
    last = 0.0
    async for raw in stream:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            last = max(last, int(value) / 1_000_000)
            if on_time is not None:
                on_time(last)
    return last


@dataclass(frozen=True)
class FFmpegRun:
    out_time: float
    stderr: list[str]


async def run_ffmpeg(
    ffmpeg: str,
    args: Sequence[str],
    *,
    on_time: Callable[[float], None] | None = None,
    stdin_feed: Callable[[asyncio.StreamWriter], Coroutine[Any, Any, None]] | None = None,
    check: bool = True,
    tail_lines: int | None = STDERR_TAIL,
    cwd: Path | None = None,
    niceness: int = 0,
) -> FFmpegRun:
    """Run `ffmpeg args…` with progress on stdout; cancellation stops FFmpeg before re-raising.

    `stdin_feed`, if given, writes the input into FFmpeg's stdin (then `q` cannot be sent: SIGTERM stops it).
    `tail_lines`: how many of its last stderr lines to keep (None: all). `niceness`: run at a lower
    priority (`nice -n`), when `nice` is installed.
    """
    lower = ["nice", "-n", str(niceness)] if niceness and shutil.which("nice") else []
    argv = [*die_with_parent(), *lower, ffmpeg, "-hide_banner", "-nostats", "-progress", "pipe:1", *args]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
    )
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    tail: deque[str] = deque(maxlen=tail_lines)
    progress = asyncio.ensure_future(_read_progress(proc.stdout, on_time))
    drain = asyncio.ensure_future(drain_stderr(proc.stderr, tail))
    feeder = asyncio.ensure_future(stdin_feed(proc.stdin)) if stdin_feed is not None else None
    try:
        if feeder is not None:
            await feeder
        returncode = await proc.wait()
        out_time = await progress
        await drain
    except BaseException:
        if feeder is not None:
            feeder.cancel()
            proc.stdin.close()
        await asyncio.shield(stop_process(proc, grace=_STOP_GRACE, ask=b"q"))
        for task in (progress, drain):
            task.cancel()
        await asyncio.gather(progress, drain, return_exceptions=True)
        raise
    if check and returncode != 0:
        raise FFmpegError("ffmpeg failed", returncode, list(tail)[-(tail_lines or STDERR_TAIL) :])
    return FFmpegRun(out_time=out_time, stderr=list(tail))


async def run_all(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run all side by side and return their results in order; on the first failure cancel the others
    (which stops their FFmpeg) and raise it."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if (error := task.exception()) is not None:
                raise error
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def parse_media_info(stderr: Sequence[str]) -> MediaInfo | None:
    """Duration and first audio stream from `ffmpeg -i` output; None when FFmpeg found no audio."""
    text = "\n".join(stderr)
    audio = _AUDIO_STREAM.search(text)
    if audio is None:
        return None
    duration = 0.0
    found = _DURATION.search(text)
    if found:
        hours, minutes, seconds = found.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return MediaInfo(
        duration=duration,
        codec=audio.group(1),
        sample_rate=int(audio.group(2)),
        channels=audio.group(3).strip(),
    )


async def probe(ffmpeg: str, source: Path) -> MediaInfo:
    """What the source holds, without ffprobe: `ffmpeg -i` output, else decode it all and count."""
    if not await asyncio.to_thread(source.is_file):
        raise MediaError(f"source file not found: {source}")
    run = await run_ffmpeg(ffmpeg, ["-i", str(source)], check=False, tail_lines=200)
    info = parse_media_info(run.stderr)
    if info is None:
        reason = run.stderr[-1] if run.stderr else "no audio stream"
        if any(
            "Output file #0 does not contain any stream" in line or "At least one output" in line
            for line in run.stderr
        ):
            reason = "no audio stream"
        raise MediaError(f"cannot package {source.name}: {reason}")
    if info.duration > 0:
        return info
    # Headers without a duration (raw streams, some live captures): decode and count.
    decoded = await run_ffmpeg(
        ffmpeg, ["-v", "error", "-i", str(source), "-map", "0:a:0", "-f", "null", "-"], check=False
    )
    if decoded.out_time <= 0:
        raise MediaError(f"cannot package {source.name}: no decodable audio")
    return MediaInfo(
        duration=decoded.out_time, codec=info.codec, sample_rate=info.sample_rate, channels=info.channels
    )

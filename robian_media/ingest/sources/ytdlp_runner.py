"""Download a source with yt-dlp in a subprocess (:mod:`ytdlp_child`), with progress and cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packager.process import drain_stderr, stop_process

from ...jobs.errors import (
    IngestError,
    ProcessKilled,
    SourceNotFound,
    SourceRefused,
    SourceTooLarge,
    SourceUnavailable,
    UnsupportedSource,
)
from ...ops.background import cancel_and_wait
from .fetch_policy import FetchPolicy

log = logging.getLogger(__name__)

ERROR_KINDS: dict[str, type[IngestError]] = {
    "refused": SourceRefused,
    "not_found": SourceNotFound,
    "unsupported": UnsupportedSource,
    "live": UnsupportedSource,
    "too_large": SourceTooLarge,
    "transient": SourceUnavailable,
}


@dataclass(frozen=True, slots=True)
class SourceChapter:
    start: float
    end: float | None
    title: str | None


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    title: str | None = None
    duration: float | None = None
    timestamp: float | None = None
    chapters: list[SourceChapter] = field(default_factory=list)


async def download_source(
    url: str,
    out_dir: Path,
    *,
    policy: FetchPolicy,
    max_bytes: int,
    max_duration: float,
    ffmpeg_location: str | None,
    on_progress: Callable[[float | None, int], None],
    stall_seconds: float = 60.0,
    min_bytes_per_second: int = 1024,
) -> Download:
    """Fetch ``url`` into ``out_dir``; cancelling this coroutine stops yt-dlp and its children.

    A source that brings fewer than ``min_bytes_per_second`` on average over ``stall_seconds``
    (silent, or a slowloris trickle that never trips a socket timeout) is abandoned as transient.
    """
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    request = {
        "url": url,
        "out_dir": str(out_dir),
        "policy": policy.as_json(),
        "max_bytes": max_bytes,
        "max_duration": max_duration,
        "ffmpeg_location": ffmpeg_location,
    }
    proc = await _spawn_child()
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr_tail: deque[str] = deque(maxlen=20)
    outcome: dict[str, Any] = {}
    received = {"bytes": 0, "finished": False}
    stalled: list[str] = []

    async def watch_rate() -> None:
        counted = 0
        while True:
            await asyncio.sleep(stall_seconds)
            if received["finished"]:
                return  # downloaded: what follows (remuxing) reports no bytes
            if received["bytes"] - counted < min_bytes_per_second * stall_seconds:
                stalled.append(
                    f"The source is too slow: {received['bytes'] - counted} bytes in the last "
                    f"{stall_seconds:.0f} s (at least {min_bytes_per_second} bytes/s are needed)."
                )
                await stop_process(proc, group=True)
                return
            counted = received["bytes"]

    async def read_messages() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if message.get("type") == "progress":
                received["bytes"] = int(message.get("downloaded") or 0)
                on_progress(message.get("fraction"), received["bytes"])
            elif message.get("type") == "downloaded":
                received["finished"] = True
            elif message.get("type") in ("done", "error"):
                outcome.update(message)

    readers = asyncio.gather(read_messages(), drain_stderr(proc.stderr, stderr_tail))
    watchdog = asyncio.create_task(watch_rate(), name="yt-dlp rate watchdog")
    try:
        proc.stdin.write(json.dumps(request).encode())
        await proc.stdin.drain()
        proc.stdin.close()
        await readers
        returncode = await proc.wait()
    except BaseException:
        readers.cancel()
        await stop_process(proc, group=True)
        with contextlib.suppress(asyncio.CancelledError):
            await readers
        raise
    finally:
        await cancel_and_wait(watchdog)
    if stalled:
        raise SourceUnavailable(stalled[0])
    return _result(outcome, returncode, stderr_tail)


@dataclass(frozen=True, slots=True)
class LiveStream:
    playlist_url: str
    title: str | None = None
    timestamp: float | None = None


async def _spawn_child() -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "robian_media.ingest.sources.ytdlp_child",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


async def find_live_stream(url: str, *, policy: FetchPolicy, within_seconds: float) -> LiveStream:
    """The live HLS manifest yt-dlp finds in the page at ``url`` (extraction only, in the subprocess)."""
    proc = await _spawn_child()
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr_tail: deque[str] = deque(maxlen=20)
    request = {"mode": "live", "url": url, "policy": policy.as_json()}
    try:
        async with asyncio.timeout(within_seconds):
            drain = asyncio.gather(proc.stdout.read(), drain_stderr(proc.stderr, stderr_tail))
            proc.stdin.write(json.dumps(request).encode())
            await proc.stdin.drain()
            proc.stdin.close()
            stdout, _ = await drain
            returncode = await proc.wait()
    except TimeoutError:
        await stop_process(proc, group=True)
        raise SourceUnavailable(
            f"Looking for a live stream in {url} took more than {within_seconds:.0f} s."
        ) from None
    except BaseException:
        await stop_process(proc, group=True)
        raise
    outcome: dict[str, Any] = {}
    for line in stdout.splitlines():
        with contextlib.suppress(ValueError):
            outcome = json.loads(line)
    if outcome.get("type") == "live":
        return LiveStream(str(outcome["playlist_url"]), outcome.get("title"), outcome.get("timestamp"))
    _result(outcome, returncode, stderr_tail)  # raises the error yt-dlp reported
    raise UnsupportedSource("yt-dlp found no live stream.")


def _result(outcome: dict[str, Any], returncode: int, stderr_tail: deque[str]) -> Download:
    if outcome.get("type") == "done":
        return Download(
            path=Path(outcome["path"]),
            title=outcome.get("title"),
            duration=outcome.get("duration"),
            timestamp=outcome.get("timestamp"),
            chapters=[
                SourceChapter(start=float(c["start"]), end=c.get("end"), title=c.get("title"))
                for c in outcome.get("chapters") or []
                if c.get("start") is not None
            ],
        )
    if outcome.get("type") == "error":
        error_type = ERROR_KINDS.get(outcome.get("kind", ""), UnsupportedSource)
        raise error_type(outcome.get("message") or "yt-dlp failed.")
    if returncode < 0:
        raise ProcessKilled(f"yt-dlp was killed by signal {-returncode}.")
    detail = stderr_tail[-1] if stderr_tail else f"exit status {returncode}"
    log.warning("yt-dlp ended without an answer", extra={"stderr": list(stderr_tail)})
    raise UnsupportedSource(f"yt-dlp failed: {detail}")

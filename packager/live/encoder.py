"""One FFmpeg run of a live sitting: source bytes in on stdin, the whole ladder out at once.

FFmpeg decodes the source once and encodes every rung. Each fMP4 rung comes out as fragmented MP4 on
a pipe of its own, one fragment per AAC frame, which :class:`FragmentReader` splits into the init
segment (ftyp+moov) and moof+mdat fragments (packager/live/rung.py puts parts together from them). The MPEG-TS
rung is not encoded here: it is its fMP4 twin's segments remuxed (:func:`remux_to_ts`), as in VOD
where it rides on the same encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from packager.ffmpeg import STDERR_TAIL, FFmpegError, run_ffmpeg
from packager.ladder import Ladder, Rung
from packager.priming import rung_filter
from packager.process import die_with_parent, drain_stderr, stop_process

FragmentCallback = Callable[[Rung, bytes, bytes], Awaitable[None]]  # rung, init, moof+mdat
# one fragment per AAC frame, written as soon as the frame is encoded: with -frag_duration FFmpeg closes
# a fragment only when the next frame arrives, which held the last part of each source segment back
# until the next segment (2 s); parts are put together from these frames (packager/live/rung.py)
_MOVFLAGS = "+frag_every_frame+empty_moov+default_base_moof"
_STOP_TIMEOUT = 5.0


class FragmentReader:
    """Splits a fragmented MP4 byte stream into its init segment and its moof+mdat fragments."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.init = b""

    async def _box(self) -> tuple[bytes, bytes] | None:
        try:
            header = await self.reader.readexactly(8)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise FFmpegError("fragmented MP4 cut inside a box header", None, []) from None
            return None
        size, kind = struct.unpack(">I4s", header)
        if size == 1:
            large = await self.reader.readexactly(8)
            header += large
            (size,) = struct.unpack(">Q", large)
        if size < len(header):
            raise FFmpegError(f"fragmented MP4 box {kind!r} of size {size}", None, [])
        return kind, header + await self.reader.readexactly(size - len(header))

    async def fragments(self) -> Callable[[], Awaitable[bytes | None]]:
        """Reads the init segment; returns a function giving the next fragment (None at the end)."""
        boxes: list[tuple[bytes, bytes]] = []
        while len(boxes) < 2:
            box = await self._box()
            if box is None:
                raise FFmpegError("FFmpeg wrote no init segment", None, [])
            boxes.append(box)
        self.init = b"".join(data for _, data in boxes)

        async def next_fragment() -> bytes | None:
            moof = await self._box()
            while moof is not None and moof[0] != b"moof":
                moof = await self._box()  # mfra, sidx…: nothing a live rung needs
            if moof is None:
                return None
            mdat = await self._box()
            if mdat is None or mdat[0] != b"mdat":
                raise FFmpegError("moof without its mdat", None, [])
            return moof[1] + mdat[1]

        return next_fragment


def live_encode_args(
    ladder: Ladder,
    fds: dict[str, int],
    *,
    input_format: str | None,
) -> list[str]:
    """Arguments (after ``ffmpeg``): stdin in, each fMP4 rung to ``pipe:{fd}``."""
    # a small probe: FFmpeg replays what it probed, and a 32 KB probe held 1.5 s of a 96 kbit/s source
    # back for the whole sitting (bench/live_edge_bench.py); HLS segments start with PAT/PMT or ftyp+moov
    args = ["-v", "error", "-fflags", "+nobuffer", "-probesize", "2048", "-analyzeduration", "0"]
    if input_format:
        args += ["-f", input_format]
    rungs = ladder.fmp4_rungs
    rates = [rung.sample_rate for rung in ladder.rungs]
    split_labels = [f"[s{i}]" for i in range(len(rungs))]
    labels = [f"[o{i}]" for i in range(len(rungs))]
    split = f"asplit={len(labels)}" if len(labels) > 1 else "anull"
    graph = [f"[0:a:0]aresample=async=1,{split}{''.join(split_labels)}"]
    # every rung padded to the ladder's longest AAC priming: the same sound at the same media time
    graph += [
        f"{split_label}{rung_filter(rung.sample_rate, rates)}{label}"
        for split_label, label, rung in zip(split_labels, labels, rungs, strict=True)
    ]
    args += ["-i", "pipe:0", "-filter_complex", ";".join(graph)]
    for label, rung in zip(labels, rungs, strict=True):
        args += [
            "-map", label, "-map_metadata", "-1",
            "-c:a", "aac", "-aac_coder", ladder.aac_coder, "-b:a", str(rung.bitrate),
            "-ac", str(rung.channels), "-ar", str(rung.sample_rate),
        ]  # fmt: skip
        args += ["-f", "mp4", "-movflags", _MOVFLAGS, "-flush_packets", "1", f"pipe:{fds[rung.name]}"]
    return args


class LiveEncoder:
    """Runs FFmpeg on bytes fed to :meth:`feed`; fragments go to ``on_fragment`` as they come out."""

    def __init__(
        self,
        ffmpeg: str,
        ladder: Ladder,
        *,
        on_fragment: FragmentCallback,
        input_format: str | None = None,
    ) -> None:
        self.ffmpeg = ffmpeg
        self.ladder = ladder
        self.on_fragment = on_fragment
        self.input_format = input_format
        self.proc: asyncio.subprocess.Process | None = None
        self.tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        pipes = {rung.name: os.pipe() for rung in self.ladder.fmp4_rungs}
        args = live_encode_args(
            self.ladder,
            {name: write for name, (_, write) in pipes.items()},
            input_format=self.input_format,
        )
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *die_with_parent(), self.ffmpeg, "-hide_banner", "-nostats", "-nostdin", *args,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, pass_fds=[write for _, write in pipes.values()],
            )  # fmt: skip
        finally:
            for _, write in pipes.values():
                os.close(write)
        assert self.proc.stderr is not None
        self._tasks.append(asyncio.ensure_future(drain_stderr(self.proc.stderr, self.tail)))
        for rung in self.ladder.fmp4_rungs:
            reader = asyncio.StreamReader(limit=1 << 22)
            read_fd = pipes[rung.name][0]
            await loop.connect_read_pipe(
                lambda reader=reader: asyncio.StreamReaderProtocol(reader),  # type: ignore[misc]
                os.fdopen(read_fd, "rb", buffering=0),
            )
            self._tasks.append(asyncio.ensure_future(self._read(rung, reader)))

    async def _read(self, rung: Rung, reader: asyncio.StreamReader) -> None:
        splitter = FragmentReader(reader)
        next_fragment = await splitter.fragments()
        while (fragment := await next_fragment()) is not None:
            await self.on_fragment(rung, splitter.init, fragment)

    async def feed(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(data)
        try:
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise FFmpegError(
                "FFmpeg stopped reading the source", self.proc.returncode, list(self.tail)
            ) from None

    def failed(self) -> bool:
        """True once FFmpeg or a reader stopped before the input ended."""
        return any(task.done() and task.exception() is not None for task in self._tasks) or (
            self.proc is not None and self.proc.returncode not in (None, 0)
        )

    async def finish(self) -> None:
        """End of input: FFmpeg flushes its last frames; returns once every fragment was handed over."""
        assert self.proc is not None and self.proc.stdin is not None
        with contextlib.suppress(OSError, RuntimeError):
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(asyncio.gather(*self._tasks), _STOP_TIMEOUT * 2)
            returncode = await asyncio.wait_for(self.proc.wait(), _STOP_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        if returncode != 0:
            raise FFmpegError("live encoder failed", returncode, list(self.tail))

    async def stop(self) -> None:
        """Stop at once (cancellation, failure): stdin closed, SIGTERM, then SIGKILL; always reaped."""
        if self.proc is not None:
            await stop_process(self.proc, grace=_STOP_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def remux_to_ts(ffmpeg: str, init: bytes, segment: bytes, target: Path) -> None:
    """One CMAF segment (with its init) as an MPEG-TS segment, no re-encode, its PTS the segment's
    ``tfdt`` (``-copyts``; ``-mpegts_copyts``: the muxer adds none of its 1.4 s): one timeline."""

    async def feed(stdin: asyncio.StreamWriter) -> None:
        stdin.write(init + segment)
        await stdin.drain()
        stdin.close()

    tmp = target.with_name(f".{target.name}.tmp")
    await run_ffmpeg(
        ffmpeg,
        ["-v", "error", "-y", "-f", "mp4", "-i", "pipe:0", "-map", "0:a", "-c", "copy", "-copyts",
         "-mpegts_copyts", "1", "-f", "mpegts", str(tmp)],
        stdin_feed=feed,
    )  # fmt: skip
    os.replace(tmp, target)

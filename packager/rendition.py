"""Builds one version directory (docs/architecture.md §3 `v{n}/` layout) from one source file.

Stages: probing → measuring (loudness) → encoding (segments and EVENT playlists published as they come)
→ finalizing (VOD playlists, measured master, download.m4a, validation). Cancellation or failure stops
FFmpeg and removes everything written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from packager.atomic import write_atomic
from packager.captions import Cue, build_cues
from packager.chapters import Chapter, ChapterIn, normalise_chapters
from packager.encode import (
    default_processes,
    encode_args,
    encode_processes,
    group_encodings,
    group_niceness,
    plan_encodings,
)
from packager.ffmpeg import default_ffmpeg, ffmpeg_major, probe, run_all, run_ffmpeg
from packager.finalize import finalize_rendition, write_chapter_files
from packager.ladder import Ladder, load_ladder
from packager.loudness import Loudness, LoudnessTarget, loudness_filter, measure_loudness
from packager.playlists import (
    MASTER_NAME,
    PLAYLIST_NAME,
    Variant,
    ladder_variants,
    master_playlist,
    media_playlist,
)
from packager.segmenter import RungOutput
from packager.silences import SILENCE_FILE, read_pauses, with_silence_detection
from packager.threads import run_blocking
from packager.timeline import align_chapters, frame_grid, plan_cuts
from packager.transcript import Paragraph, TranscriptIn, normalise_transcript
from packager.transcript_files import Words

ProgressCallback = Callable[[str, float], None]
_POLL = 0.2
# Share of the overall progress each stage covers (encoding dominates the wall time).
_STAGES = {
    "probing": (0.0, 0.01),
    "measuring": (0.01, 0.05),
    "encoding": (0.05, 0.93),
    "finalizing": (0.93, 1.0),
}


@dataclass
class Rendition:
    """What was written into one version directory."""

    directory: Path
    duration: float
    variants: list[Variant]
    chapters: list[Chapter]
    loudness: Loudness | None
    ffmpeg: str
    timings: dict[str, float] = field(default_factory=dict)
    transcript: list[Paragraph] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)

    @property
    def master(self) -> Path:
        return self.directory / "master.m3u8"


class _Progress:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = ("", -1.0)

    def __call__(self, stage: str, fraction: float) -> None:
        """Report overall progress, monotonic, at most every 0.1 % (and at every change of stage)."""
        low, high = _STAGES[stage]
        overall = max(low + (high - low) * min(max(fraction, 0.0), 1.0), self._last[1])
        if self._callback is not None and (stage != self._last[0] or overall - self._last[1] >= 0.001):
            self._last = (stage, overall)
            self._callback(stage, overall)


class _Publisher:
    """Writes the rung playlists (EVENT, then VOD) and the version master as segments arrive."""

    def __init__(
        self,
        directory: Path,
        ladder: Ladder,
        outputs: list[RungOutput],
        chapters: list[Chapter],
        starts_at: datetime | None,
    ) -> None:
        self.directory = directory
        self.ladder = ladder
        self.outputs = outputs
        self.chapters = chapters
        self.starts_at = starts_at
        self.playable_at: float | None = None

    def variants(self, *, measured: bool) -> list[Variant]:
        return ladder_variants(
            ((o.rung, o.segments) for o in self.outputs),
            measured=measured,
            target=self.ladder.segment_duration,
        )

    def playlists(self, *, ended: bool, outputs: Sequence[RungOutput] | None = None) -> bool:
        """Rewrite the rung playlists (of ``outputs``, default all); write the master once all rungs have a
        segment (True that time)."""
        for output in self.outputs if outputs is None else outputs:
            text = media_playlist(
                output.segments,
                kind=output.rung.kind,
                ended=ended,
                chapters=self.chapters,
                starts_at=self.starts_at,
                target=self.ladder.segment_duration,
            )
            write_atomic(output.directory / PLAYLIST_NAME, text)
        if self.playable_at is None and all(output.segments for output in self.outputs):
            write_atomic(self.directory / MASTER_NAME, master_playlist(self.variants(measured=False)))
            self.playable_at = time.monotonic()
            return True
        return False

    def collect(self) -> bool:
        """Blocking: publish finished segments, refresh playlists; True once, when it becomes playable."""
        grown = [output for output in self.outputs if output.collect()]
        return self.playlists(ended=False, outputs=grown) if grown else False


async def build_rendition(
    source: Path,
    outdir: Path,
    *,
    ladder: Ladder | str | Path = "speech",
    chapters: Sequence[ChapterIn] = (),
    starts_at: datetime | None = None,
    ffmpeg: str | None = None,
    loudness: LoudnessTarget | None = None,
    on_progress: ProgressCallback | None = None,
    on_playable: Callable[[list[Variant]], None] | None = None,
    processes: int | None = None,
    title: str | None = None,
    transcript: Sequence[TranscriptIn] = (),
) -> Rendition:
    """Package `source` into `outdir` (created; must not exist or be empty). Raises MediaError, ChapterError,
    TranscriptError, FFmpegError or ValidationError; on any error or cancellation `outdir` is removed."""
    ffmpeg = ffmpeg or default_ffmpeg()
    ladder = load_ladder(ladder)
    target = loudness or LoudnessTarget()
    absolute_source = await asyncio.to_thread(_prepare, source, outdir)
    try:
        return await _build(
            absolute_source,
            outdir,
            ladder,
            chapters,
            starts_at,
            ffmpeg,
            target,
            _Progress(on_progress),
            on_playable,
            processes,
            title,
            transcript,
        )
    except BaseException:
        with contextlib.suppress(OSError):
            await run_blocking(shutil.rmtree, outdir)
        raise


def _prepare(source: Path, outdir: Path) -> Path:
    """Create the (empty) output directory; return the source as an absolute path (FFmpeg runs in outdir)."""
    if outdir.exists() and any(outdir.iterdir()):
        raise FileExistsError(f"output directory is not empty: {outdir}")
    outdir.mkdir(parents=True, exist_ok=True)
    return source.absolute()


async def _build(
    source: Path,
    outdir: Path,
    ladder: Ladder,
    chapters_in: Sequence[ChapterIn],
    starts_at: datetime | None,
    ffmpeg: str,
    target: LoudnessTarget,
    progress: _Progress,
    on_playable: Callable[[list[Variant]], None] | None,
    processes: int | None,
    title: str | None,
    transcript_in: Sequence[TranscriptIn],
) -> Rendition:
    timings: dict[str, float] = {}
    started = time.monotonic()
    progress("probing", 0.0)
    info = await probe(ffmpeg, source)
    duration = info.duration
    grid = frame_grid(rung.sample_rate for rung in ladder.rungs)
    chapters = normalise_chapters(chapters_in, duration)
    cuts = plan_cuts(duration, [chapter.start for chapter in chapters], grid, ladder.segment_duration)
    chapters = align_chapters(chapters, grid, duration)
    transcript = normalise_transcript(transcript_in, duration, chapters)
    # before any master: its SESSION-DATA points at chapters.json (a player loading it fetches that)
    write_chapter_files(outdir, chapters)
    timings["probing"] = time.monotonic() - started

    measured = None
    if target.enabled:
        progress("measuring", 0.0)
        window_total = duration if duration <= target.full_scan_max else target.windows * target.window
        measured = await measure_loudness(
            ffmpeg,
            source,
            duration,
            target,
            on_time=lambda t: progress("measuring", t / max(window_total, 1e-6)),
            processes=processes or default_processes(),
        )
    timings["measuring"] = time.monotonic() - started - timings["probing"]

    outputs = {rung.name: RungOutput(rung, outdir) for rung in ladder.rungs}
    for output in outputs.values():
        output.prepare()
    publisher = _Publisher(outdir, ladder, list(outputs.values()), chapters, starts_at)

    async def collect() -> None:
        if await run_blocking(publisher.collect) and on_playable is not None:
            on_playable(publisher.variants(measured=False))

    groups = group_encodings(plan_encodings(ladder), encode_processes(await ffmpeg_major(ffmpeg), processes))
    niceness = group_niceness(groups)
    positions = [0.0] * len(groups)

    def on_time(index: int, seconds: float) -> None:
        positions[index] = seconds
        progress("encoding", min(positions) / max(duration, 1e-6))

    encode_started = time.monotonic()
    progress("encoding", 0.0)
    audio_filter = loudness_filter(measured, target)
    # the words' cues snap to pauses: one of the decodes also looks for them
    listening = with_silence_detection(audio_filter) if transcript else audio_filter
    runs = [
        run_ffmpeg(
            ffmpeg,
            encode_args(
                str(source),
                group,
                cuts=cuts,
                audio_filter=listening if index == 0 else audio_filter,
                aac_coder=ladder.aac_coder,
                sample_rates=[rung.sample_rate for rung in ladder.rungs],
            ),
            on_time=functools.partial(on_time, index),
            cwd=outdir,
            niceness=niceness[index],
        )
        for index, group in enumerate(groups)
    ]
    encoding = asyncio.ensure_future(run_all(runs))
    try:
        while not encoding.done():
            await asyncio.wait([encoding], timeout=_POLL)
            await collect()
        await encoding
    finally:
        encoding.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await encoding
    await collect()
    for output in outputs.values():
        await run_blocking(output.cleanup)
    words = None
    if transcript:
        pauses = await run_blocking(read_pauses, outdir, duration)
        (outdir / SILENCE_FILE).unlink(missing_ok=True)
        words = Words(transcript, build_cues(transcript, pauses))
    timings["encoding"] = time.monotonic() - encode_started
    if publisher.playable_at is not None:
        timings["first_playable"] = publisher.playable_at - started

    finalize_started = time.monotonic()
    progress("finalizing", 0.0)
    await run_blocking(publisher.playlists, ended=True)
    variants = publisher.variants(measured=True)
    top = outputs[ladder.top_rung.name]
    await finalize_rendition(
        outdir,
        ffmpeg=ffmpeg,
        variants=variants,
        chapters=chapters,
        download_parts=top.files(),
        duration=duration,
        title=title,
        on_progress=lambda fraction: progress("finalizing", fraction),
        words=words,
    )
    encoded_duration = top.duration
    timings["finalizing"] = time.monotonic() - finalize_started
    timings["total"] = time.monotonic() - started
    return Rendition(
        directory=outdir,
        duration=encoded_duration,
        variants=variants,
        chapters=chapters,
        loudness=measured,
        ffmpeg=ffmpeg,
        timings=timings,
        transcript=transcript,
        cues=words.cues if words is not None else [],
    )

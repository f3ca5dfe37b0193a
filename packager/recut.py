"""A new version of a debate from its current one, cut again at new chapter starts, without encoding.

When a compte rendu arrives after a sitting was packaged (DESIGN §8), its chapters and words make a new
version: AAC frames are independent, so each fMP4 rung's samples are regrouped into segments that
start at the new chapter starts (box surgery: the same init segment, the same sample bytes, new
moof/mdat pairs), the TS rung is re-muxed at the same instants (FFmpeg, stream copy) and
``download.m4a`` re-muxed with the new chapters; finalize_rendition() finishes and validates it as every
version. What reads the audio (the TS and download remuxes, the pauses' decode for the words) reads the
current version, which holds the same samples, while the fMP4 rungs are cut. A recorded live sitting is
re-cut the same way, keeping its segment target; one with gaps (GAP segments, a discontinuity per run
of its source) is refused with RecutError.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import m3u8

from packager.atomic import write_atomic
from packager.captions import Pause, build_cues
from packager.chapters import Chapter, ChapterIn, normalise_chapters
from packager.cmaf import Track, boxes, build_fragment, fragment_samples, read_track
from packager.download import write_download
from packager.encode import Encoding, segment_output
from packager.ffmpeg import run_ffmpeg
from packager.finalize import finalize_rendition
from packager.ladder import Ladder, Rung, load_ladder
from packager.playlists import PLAYLIST_NAME, MediaSegment, ladder_variants, media_playlist
from packager.segmenter import INIT_NAME, RungOutput
from packager.silences import SILENCE_FILE, read_pauses, with_silence_detection
from packager.threads import run_blocking
from packager.timeline import align_chapters, frame_grid, muxer_times, plan_cuts
from packager.transcript import Paragraph, TranscriptIn, normalise_transcript
from packager.transcript_files import Words
from packager.versions import (
    DEFAULT_KEEP,
    allocate_version,
    current_version,
    debate_lock,
    finish_version,
    restore_version,
)
from packager.vod import PackageResult


class RecutError(ValueError):
    """The current version cannot be re-cut (none published, or its rungs are not the ladder's)."""


@dataclass
class _Source:
    """What the current version says about the sitting: its rungs' files and timeline."""

    directory: Path
    starts_at: datetime | None
    target: float
    duration: float


def _samples(rung_dir: Path, track: Track) -> tuple[list[tuple[int, int]], bytes]:
    """Every sample (duration, size) of a rung in order, and their bytes end to end."""
    playlist = m3u8.load(str(rung_dir / PLAYLIST_NAME))
    entries: list[tuple[int, int]] = []
    payload = bytearray()
    for segment in playlist.segments:
        data = (rung_dir / segment.uri).read_bytes()
        pair_start = None
        for box in boxes(data):
            if box.type == b"moof":
                pair_start = box.start
            elif box.type == b"mdat" and pair_start is not None:
                samples = fragment_samples(data[pair_start : box.end], track)
                entries += samples.entries
                payload += samples.payload
                pair_start = None
    return entries, bytes(payload)


def _recut_fmp4(rung: Rung, source: Path, target: Path, cuts: Sequence[float]) -> list[MediaSegment]:
    """The rung's samples regrouped into one fragment per segment, cut at ``cuts`` (whole frames)."""
    init = (source / INIT_NAME).read_bytes()
    track = read_track(init)
    entries, payload = _samples(source, track)
    target.mkdir(parents=True)
    (target / INIT_NAME).write_bytes(init)
    # the first sample starting at or after each cut (cuts are frame instants of every rung)
    starts = list(itertools.accumulate((duration for duration, _ in entries), initial=0))[:-1]
    edges = [0, *(bisect.bisect_left(starts, round(cut * track.timescale)) for cut in cuts), len(entries)]
    segments: list[MediaSegment] = []
    offset = decode_time = 0
    for number, (first, last) in enumerate(itertools.pairwise(edges)):
        if last <= first:
            continue
        chosen = entries[first:last]
        size = sum(size for _, size in chosen)
        data = build_fragment(
            chosen, payload[offset : offset + size], sequence=number + 1, decode_time=decode_time
        )
        name = f"seg_{len(segments)}.m4s"
        (target / name).write_bytes(data)
        duration = sum(duration for duration, _ in chosen)
        segments.append(MediaSegment(name, duration / track.timescale, len(data)))
        offset += size
        decode_time += duration
    return segments


async def _recut_ts(
    ffmpeg: str, rung: Rung, source: Path, version_dir: Path, cuts: Sequence[float]
) -> RungOutput:
    """The TS rung's old segments joined and cut again at ``cuts`` by FFmpeg's segment muxer (copy)."""
    playlist = m3u8.load(str(source / PLAYLIST_NAME))
    output = RungOutput(rung, version_dir)
    output.prepare()
    joined = output.raw / "joined.ts"
    with joined.open("wb") as handle:
        for segment in playlist.segments:
            handle.write((source / segment.uri).read_bytes())
    args = ["-v", "error", "-y", "-i", str(joined.relative_to(version_dir)), "-map", "0:a", "-c", "copy"]
    await run_ffmpeg(
        ffmpeg, [*args, *segment_output(Encoding((rung,)), muxer_times(cuts) or "999999")], cwd=version_dir
    )
    joined.unlink()
    output.directory.mkdir(exist_ok=True)
    output.collect()
    output.cleanup()
    return output


def _source(version_dir: Path, ladder: Ladder) -> _Source:
    for rung in ladder.rungs:
        if not (version_dir / rung.name / PLAYLIST_NAME).is_file():
            raise RecutError(f"the current version has no rung {rung.name}: it was made with another ladder")
    top = m3u8.load(str(version_dir / ladder.top_rung.name / PLAYLIST_NAME))
    if any(segment.gap_tag for segment in top.segments):
        # each run after an outage has its own decode times and discontinuity: not regrouped here
        raise RecutError("the recording has gaps where its source dropped, which are not re-cut")
    return _Source(
        directory=version_dir,
        starts_at=top.program_date_time,
        target=float(top.target_duration or ladder.segment_duration),
        duration=sum(segment.duration for segment in top.segments),
    )


async def recut(
    debate_dir: Path,
    *,
    ladder: Ladder | str | Path = "speech",
    chapters: Sequence[ChapterIn],
    transcript: Sequence[TranscriptIn] = (),
    ffmpeg: str,
    title: str | None = None,
    keep: int = DEFAULT_KEEP,
) -> PackageResult:
    """Publish the next version of ``debate_dir``: its current audio cut at ``chapters``, with ``transcript``.

    Raises RecutError, ChapterError, TranscriptError, BoxError, FFmpegError, ValidationError,
    DebateBusyError; on any failure the new version is removed and the current one keeps serving.
    """
    ladder = load_ladder(ladder)
    started = time.monotonic()
    with debate_lock(debate_dir):
        current = await asyncio.to_thread(current_version, debate_dir)
        if current is None:
            raise RecutError("the debate has no published version to re-cut")
        source = await run_blocking(_source, debate_dir / f"v{current}", ladder)
        grid = frame_grid(rung.sample_rate for rung in ladder.rungs)
        normalised = normalise_chapters(chapters, source.duration)
        cuts = plan_cuts(source.duration, [c.start for c in normalised], grid, source.target)
        aligned = align_chapters(normalised, grid, source.duration)
        paragraphs = normalise_transcript(transcript, source.duration, aligned)
        version = await asyncio.to_thread(allocate_version, debate_dir)
        version_dir = debate_dir / f"v{version}"
        try:
            result = await _build(ffmpeg, ladder, source, version_dir, cuts, aligned, paragraphs, title)
            await run_blocking(finish_version, debate_dir, version, keep)
        except BaseException:
            restore_version(debate_dir, version)
            raise
    result.version, result.debate_dir = version, debate_dir
    result.timings["total"] = time.monotonic() - started
    return result


async def _pauses(ffmpeg: str, version_dir: Path, parts: Sequence[Path], duration: float) -> list[Pause]:
    """Pauses in a rung: a decode (no encode) through silencedetect, for the cues to snap to."""
    joined = version_dir / ".pauses.mp4"
    await run_blocking(_join, parts, joined)
    try:
        args = ["-v", "error", "-i", joined.name, "-af", with_silence_detection(None), "-f", "null", "-"]
        await run_ffmpeg(ffmpeg, args, cwd=version_dir)
        return await run_blocking(read_pauses, version_dir, duration)
    finally:
        joined.unlink(missing_ok=True)
        (version_dir / SILENCE_FILE).unlink(missing_ok=True)


def _join(parts: Sequence[Path], joined: Path) -> None:
    with joined.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())


def _fmp4_files(rung_dir: Path) -> list[Path]:
    """init + media segments of a published fMP4 rung, in order."""
    playlist = m3u8.load(str(rung_dir / PLAYLIST_NAME))
    return [rung_dir / INIT_NAME, *(rung_dir / segment.uri for segment in playlist.segments)]


async def _build(
    ffmpeg: str,
    ladder: Ladder,
    source: _Source,
    version_dir: Path,
    cuts: Sequence[float],
    chapters: list[Chapter],
    paragraphs: list[Paragraph],
    title: str | None,
) -> PackageResult:
    """The new version's files. The current version holds the same samples, so what reads them (the
    pauses' decode, the download remux, the TS remux) runs from it beside the fMP4 box surgery."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    await run_blocking(version_dir.mkdir)
    top = ladder.top_rung.name
    side: dict[str, asyncio.Future[Any]] = {
        "download": asyncio.ensure_future(
            write_download(ffmpeg, await run_blocking(_fmp4_files, source.directory / top), version_dir,
                           chapters, title=title)
        ),
    }  # fmt: skip
    try:
        if paragraphs:
            # the cheapest rung to decode (fewest samples, fewest channels) tells the pauses as well
            low = min(
                (r for r in ladder.rungs if r.kind == "fmp4"),
                key=lambda r: (r.sample_rate * r.channels, r.bitrate),
            )
            low_parts = await run_blocking(_fmp4_files, source.directory / low.name)
            side["pauses"] = asyncio.ensure_future(_pauses(ffmpeg, version_dir, low_parts, source.duration))
        for rung in ladder.rungs:
            if rung.kind == "ts":
                side[rung.name] = asyncio.ensure_future(
                    _recut_ts(ffmpeg, rung, source.directory / rung.name, version_dir, cuts)
                )
        segments: dict[str, list[MediaSegment]] = {}
        for rung in ladder.rungs:
            if rung.kind == "fmp4":
                segments[rung.name] = await run_blocking(
                    _recut_fmp4, rung, source.directory / rung.name, version_dir / rung.name, cuts
                )
        timings["fmp4"] = time.monotonic() - began
        for rung in ladder.rungs:
            if rung.kind == "ts":
                segments[rung.name] = (await side[rung.name]).segments
        timings["ts"] = time.monotonic() - began - sum(timings.values())
        outputs: list[tuple[Rung, list[MediaSegment]]] = []
        for rung in ladder.rungs:
            made = segments[rung.name]
            outputs.append((rung, made))
            text = media_playlist(
                made,
                kind=rung.kind,
                ended=True,
                chapters=chapters,
                starts_at=source.starts_at,
                target=source.target,
            )
            await run_blocking(write_atomic, version_dir / rung.name / PLAYLIST_NAME, text)
        words = None
        if paragraphs:
            words = Words(paragraphs, build_cues(paragraphs, await side["pauses"]))
        timings["pauses"] = time.monotonic() - began - sum(timings.values())
        await side["download"]
        timings["download"] = time.monotonic() - began - sum(timings.values())
    finally:
        for task in side.values():
            task.cancel()
        await asyncio.gather(*side.values(), return_exceptions=True)
    variants = ladder_variants(outputs, measured=True, target=source.target)
    await finalize_rendition(
        version_dir,
        ffmpeg=ffmpeg,
        variants=variants,
        chapters=chapters,
        download_parts=[version_dir / top / INIT_NAME, *(version_dir / top / s.uri for s in segments[top])],
        duration=source.duration,
        title=title,
        words=words,
        download_written=True,
    )
    timings["finalizing"] = time.monotonic() - began - sum(timings.values())
    return PackageResult(
        version=0,
        duration=sum(s.duration for s in segments[top]),
        variants=variants,
        chapters=chapters,
        debate_dir=version_dir.parent,
        version_dir=version_dir,
        transcript=paragraphs,
        cues=words.cues if words is not None else [],
        timings=timings,
    )

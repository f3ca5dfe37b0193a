"""A new version of a debate from its current one, cut again at new chapter starts, without encoding.

When a compte rendu arrives after a sitting was packaged (DESIGN §8), its chapters and words make a new
version: AAC frames are independent, so each fMP4 rung's samples are regrouped into segments that
start at the new chapter starts (box surgery: the same init segment, the same sample bytes, new
moof/mdat pairs), the TS rung is re-muxed at the same instants (FFmpeg, stream copy) and
``download.m4a`` re-muxed with the new chapters; finalize_rendition() finishes and validates it as every
version. What reads the audio (the TS and download remuxes, the pauses' decode for the words) reads the
current version, which holds the same samples, while the fMP4 rungs are cut. A recorded live sitting is
re-cut the same way, keeping its segment target. One with gaps (an outage of its source, or its job
resumed after a crash: GAP segments, then a discontinuity and a new run) is re-cut run by run, each run
from the decode time (TS: the PTS) it had, so that every sample plays at the same time as before; the
GAP segments, discontinuities and dates are written back where they were, and a chapter starting in a
gap starts where the audio comes back.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import m3u8

from packager.atomic import write_atomic
from packager.captions import Pause, build_cues
from packager.chapters import Chapter, ChapterIn, normalise_chapters
from packager.cmaf import BoxError, Track, build_fragment, fragment_samples, fragments, read_track
from packager.download import write_download
from packager.encode import Encoding, segment_output
from packager.ffmpeg import run_ffmpeg
from packager.finalize import finalize_rendition
from packager.ladder import Ladder, Rung, load_ladder
from packager.live.chapters import live_chapter
from packager.live.playlist import LivePlaylistState, LiveSegment, live_playlist
from packager.mpegts import first_pts
from packager.playlists import EPOCH, PLAYLIST_NAME, MediaSegment, ladder_variants, media_playlist
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
class _Run:
    """A stretch of a rung recorded without a break (a whole VOD rung is one): its media segments, after
    the GAP segments of the outage before it."""

    gaps: list[m3u8.Segment]
    segments: list[m3u8.Segment]
    start: float  # seconds since the sitting began, gaps included
    duration: float


def _runs(playlist: m3u8.M3U8) -> list[_Run]:
    """A rung's runs: a new one after GAP segments or at a discontinuity (a new encoder)."""
    runs: list[_Run] = []
    gaps: list[m3u8.Segment] = []
    total = 0.0
    for segment in playlist.segments:
        if segment.gap_tag:
            gaps.append(segment)
        elif not runs or gaps or segment.discontinuity:
            runs.append(_Run(gaps, [segment], total, segment.duration))
            gaps = []
        else:
            runs[-1].segments.append(segment)
            runs[-1].duration += segment.duration
        total += segment.duration
    if gaps or not runs:
        raise RecutError("the recording ends in a gap: there is no audio after it to re-cut")
    return runs


@dataclass
class _Source:
    """What the current version says about the sitting: its rungs' files and timeline."""

    directory: Path
    starts_at: datetime | None
    target: float
    duration: float
    runs: list[tuple[float, float]]  # (start, end) of each stretch of audio, in seconds since the start
    gapped: bool  # GAP segments or discontinuities: the playlists say where, as the recording's did


def _run_samples(rung_dir: Path, run: _Run, track: Track) -> tuple[int, list[tuple[int, int]], bytes]:
    """The decode time of a run's first sample, and every sample (duration, size) and their bytes."""
    entries: list[tuple[int, int]] = []
    payload = bytearray()
    first: int | None = None
    for segment in run.segments:
        for decode_time, pair in fragments((rung_dir / segment.uri).read_bytes()):
            first = decode_time if first is None else first
            samples = fragment_samples(pair, track)
            entries += samples.entries
            payload += samples.payload
    if first is None:
        raise BoxError(f"{rung_dir.name}: a run without samples")
    return first, entries, bytes(payload)


def _gap_segments(run: _Run, number: int, extension: str) -> list[LiveSegment]:
    """The GAP segments before ``run`` as they were, numbered from ``number``."""
    starts = itertools.accumulate(
        (gap.duration for gap in run.gaps), initial=run.start - sum(g.duration for g in run.gaps)
    )
    return [
        LiveSegment(
            number + i, f"gap_{number + i}.{extension}", gap.duration, start, _pdt(gap, 0.0), gap=True
        )
        for i, (gap, start) in enumerate(zip(run.gaps, starts, strict=False))
    ]


def _recut_fmp4(rung: Rung, source: Path, target: Path, cuts: Sequence[Sequence[float]]) -> list[LiveSegment]:
    """The rung's samples regrouped into one fragment per segment, each run cut at its ``cuts`` (seconds
    from its start, whole frames) from the decode time it had; its GAP segments and discontinuities kept."""
    target.mkdir(parents=True)
    segments: list[LiveSegment] = []
    init_uri = None
    for run, run_cuts in zip(_runs(m3u8.load(str(source / PLAYLIST_NAME))), cuts, strict=True):
        segments += _gap_segments(run, len(segments), "m4s")
        first = run.segments[0]
        uri = first.init_section.uri if first.init_section is not None else INIT_NAME
        if not (target / uri).exists():
            shutil.copyfile(source / uri, target / uri)
        track = read_track((target / uri).read_bytes())
        map_uri, init_uri = (uri if init_uri not in (None, uri) else None), uri
        decode_time, entries, payload = _run_samples(source, run, track)
        # the first sample starting at or after each cut (cuts are frame instants of every rung)
        starts = list(itertools.accumulate((duration for duration, _ in entries), initial=0))[:-1]
        edges = [
            0,
            *(bisect.bisect_left(starts, round(cut * track.timescale)) for cut in run_cuts),
            len(entries),
        ]
        offset = elapsed = 0
        for first_sample, end in itertools.pairwise(edges):
            if end <= first_sample:
                continue
            chosen = entries[first_sample:end]
            size = sum(size for _, size in chosen)
            number = len(segments)
            data = build_fragment(
                chosen,
                payload[offset : offset + size],
                sequence=number + 1,
                decode_time=decode_time + elapsed,
            )
            name = f"seg_{number}.m4s"
            (target / name).write_bytes(data)
            duration = sum(duration for duration, _ in chosen)
            opening = elapsed == 0
            segments.append(
                LiveSegment(
                    number,
                    name,
                    duration / track.timescale,
                    run.start + elapsed / track.timescale,
                    _pdt(first, elapsed / track.timescale),
                    discontinuity=opening and first.discontinuity,
                    map_uri=map_uri if opening else None,
                )
            )
            offset += size
            elapsed += duration
    return segments


def _pdt(first: m3u8.Segment, seconds: float) -> datetime:
    """The wall clock ``seconds`` into the run that ``first`` opens."""
    return (first.current_program_date_time or EPOCH) + timedelta(seconds=seconds)


async def _recut_ts(
    ffmpeg: str, rung: Rung, source: Path, version_dir: Path, cuts: Sequence[Sequence[float]]
) -> list[LiveSegment]:
    """The TS rung's old segments, run by run, joined and cut again at ``cuts`` by FFmpeg's segment
    muxer (copy; each run's PTS moved back to where they were); continuity counters go on
    from segment to segment as they did; GAP segments and discontinuities kept."""
    output = RungOutput(rung, version_dir)
    output.prepare()
    output.directory.mkdir(exist_ok=True)
    joined = output.raw / "joined.ts"
    segments: list[LiveSegment] = []
    for run, run_cuts in zip(_runs(m3u8.load(str(source / PLAYLIST_NAME))), cuts, strict=True):
        segments += _gap_segments(run, len(segments), "ts")
        await run_blocking(_join, [source / segment.uri for segment in run.segments], joined)
        origin = first_pts((source / run.segments[0].uri).read_bytes()) / 90_000
        output_args = segment_output(Encoding((rung,)), muxer_times(run_cuts) or "999999", ts_offset=origin)
        args = ["-v", "error", "-y", "-i", str(joined.relative_to(version_dir)), "-map", "0:a", "-c", "copy"]
        await run_ffmpeg(ffmpeg, [*args, *output_args], cwd=version_dir)
        made = len(output.segments)
        await run_blocking(output.collect)
        output.next_run()
        elapsed = 0.0
        for published in output.segments[made:]:
            opening = elapsed == 0
            segments.append(
                LiveSegment(
                    len(segments),
                    published.uri,
                    published.duration,
                    run.start + elapsed,
                    _pdt(run.segments[0], elapsed),
                    discontinuity=opening and run.segments[0].discontinuity,
                )
            )
            elapsed += published.duration
    joined.unlink(missing_ok=True)
    output.cleanup()
    return segments


def _source(version_dir: Path, ladder: Ladder) -> _Source:
    for rung in ladder.rungs:
        if not (version_dir / rung.name / PLAYLIST_NAME).is_file():
            raise RecutError(f"the current version has no rung {rung.name}: it was made with another ladder")
    top = m3u8.load(str(version_dir / ladder.top_rung.name / PLAYLIST_NAME))
    runs = _runs(top)
    # a run ends where its shortest rung's does (they differ by a frame): no cut past a rung's last sample
    ends = [run.start + run.duration for run in runs]
    for rung in ladder.rungs:
        theirs = _runs(m3u8.load(str(version_dir / rung.name / PLAYLIST_NAME)))
        if [round(run.start, 3) for run in theirs] != [round(run.start, 3) for run in runs]:
            raise RecutError(f"the runs of rung {rung.name} do not start where the top rung's do")
        ends = [min(end, run.start + run.duration) for end, run in zip(ends, theirs, strict=True)]
    return _Source(
        directory=version_dir,
        starts_at=top.program_date_time,
        target=float(top.target_duration or ladder.segment_duration),
        duration=sum(segment.duration for segment in top.segments),
        runs=[(run.start, end) for run, end in zip(runs, ends, strict=True)],
        gapped=len(runs) > 1 or bool(runs[0].gaps),
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
        aligned = align_chapters(normalised, grid, source.duration, source.runs)
        cuts = [
            plan_cuts(end - start, [c.start - start for c in aligned], grid, source.target)
            for start, end in source.runs
        ]
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
    """init + media segments of a published fMP4 rung, in order (GAP segments have no media)."""
    playlist = m3u8.load(str(rung_dir / PLAYLIST_NAME))
    return [rung_dir / INIT_NAME, *(rung_dir / s.uri for s in playlist.segments if not s.gap_tag)]


def _media(rung_dir: Path, segments: Sequence[LiveSegment]) -> list[MediaSegment]:
    """The segments with media, measured."""
    return [MediaSegment(s.uri, s.duration, (rung_dir / s.uri).stat().st_size) for s in segments if not s.gap]


def _playlist(
    rung: Rung,
    segments: list[LiveSegment],
    media: list[MediaSegment],
    source: _Source,
    chapters: list[Chapter],
) -> str:
    """A re-cut rung's playlist; with gaps, written as the recording's was (a date, and the GAP and
    discontinuity tags and init segments of its runs, on each segment)."""
    if not source.gapped:
        return media_playlist(
            media,
            kind=rung.kind,
            ended=True,
            chapters=chapters,
            starts_at=source.starts_at,
            target=source.target,
        )
    state = LivePlaylistState(
        kind=rung.kind,
        init_uri=INIT_NAME,
        segment_target=source.target,
        part_target=0.0,
        starts_at=source.starts_at or EPOCH,
        segments=segments,
        ended=True,
    )
    return live_playlist(state, [live_chapter(chapter) for chapter in chapters])


async def _build(
    ffmpeg: str,
    ladder: Ladder,
    source: _Source,
    version_dir: Path,
    cuts: Sequence[Sequence[float]],
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
        segments: dict[str, list[LiveSegment]] = {}
        for rung in ladder.rungs:
            if rung.kind == "fmp4":
                segments[rung.name] = await run_blocking(
                    _recut_fmp4, rung, source.directory / rung.name, version_dir / rung.name, cuts
                )
        timings["fmp4"] = time.monotonic() - began
        for rung in ladder.rungs:
            if rung.kind == "ts":
                segments[rung.name] = await side[rung.name]
        timings["ts"] = time.monotonic() - began - sum(timings.values())
        outputs: list[tuple[Rung, list[MediaSegment]]] = []
        for rung in ladder.rungs:
            outputs.append((rung, await run_blocking(_media, version_dir / rung.name, segments[rung.name])))
            text = _playlist(rung, segments[rung.name], outputs[-1][1], source, chapters)
            await run_blocking(write_atomic, version_dir / rung.name / PLAYLIST_NAME, text)
        top_media = next(media for rung, media in outputs if rung.name == top)
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
        download_parts=[version_dir / top / INIT_NAME, *(version_dir / top / s.uri for s in top_media)],
        duration=source.duration,
        title=title,
        words=words,
        download_written=True,
    )
    timings["finalizing"] = time.monotonic() - began - sum(timings.values())
    return PackageResult(
        version=0,
        duration=sum(s.duration for s in segments[top]),  # gaps included: the sitting's timeline
        variants=variants,
        chapters=chapters,
        debate_dir=version_dir.parent,
        version_dir=version_dir,
        transcript=paragraphs,
        cues=words.cues if words is not None else [],
        timings=timings,
    )

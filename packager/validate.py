"""Checks a finished version directory the way a player would meet it; any problem fails the job."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import m3u8

from packager.chapters import Chapter
from packager.ffmpeg import FFmpegError, run_all, run_ffmpeg
from packager.playlists import MediaSegment, bandwidths
from packager.timeline import AAC_FRAME
from packager.validate_words import check_words


class ValidationError(RuntimeError):
    """The packaged output is not fit to publish; `problems` lists every finding."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid output: " + "; ".join(problems))
        self.problems = list(problems)


@dataclass
class _Rung:
    uri: str
    directory: Path
    kind: str
    bandwidth: int
    target: int  # EXT-X-TARGETDURATION
    durations: list[float]  # every segment's, GAP segments included: the rung's timeline
    media: list[tuple[MediaSegment, Path | None]]  # the segments with media, each with its init segment
    dateranges: list[tuple[str, ...]]
    frame: float  # seconds per AAC frame, from the init segment or assumed 48 kHz for TS
    discontinuities: set[int]  # numbers of the segments that follow an EXT-X-DISCONTINUITY

    @property
    def starts(self) -> list[float]:
        starts, total = [], 0.0
        for duration in self.durations:
            starts.append(total)
            total += duration
        return starts


def _frame_seconds(init: Path | None) -> float:
    if init is None:
        return AAC_FRAME / 48_000
    from packager.cmaf import read_track

    return AAC_FRAME / read_track(init.read_bytes()).timescale


def _load(directory: Path, problems: list[str]) -> list[_Rung]:
    master = m3u8.load(str(directory / "master.m3u8"))
    if not master.is_variant:
        problems.append("master.m3u8 has no variants")
        return []
    if not any(data.data_id == "com.apple.hls.chapters" for data in master.session_data):
        problems.append("master.m3u8 lacks the chapters SESSION-DATA")
    rungs: list[_Rung] = []
    for variant in master.playlists:
        path = directory / variant.uri
        playlist = m3u8.load(str(path))
        name = variant.uri
        if playlist.playlist_type != "vod" or not playlist.is_endlist:
            problems.append(f"{name}: not a finished VOD playlist")
        if playlist.program_date_time is None and not any(s.program_date_time for s in playlist.segments):
            problems.append(f"{name}: no EXT-X-PROGRAM-DATE-TIME")
        inits = [path.parent / segment_map.uri for segment_map in playlist.segment_map]
        if any(not init.is_file() for init in inits):
            problems.append(f"{name}: init segment missing")
            inits = []
        durations: list[float] = []
        media: list[tuple[MediaSegment, Path | None]] = []
        for segment in playlist.segments:
            if round(segment.duration) > playlist.target_duration:
                problems.append(f"{name}: {segment.uri} lasts {segment.duration:.3f} s > TARGETDURATION")
            if segment.gap_tag:
                # a GAP segment marks time the (live) source did not deliver: it has no media by design
                durations.append(segment.duration)
                continue
            file = path.parent / segment.uri
            if not file.is_file():
                problems.append(f"{name}: {segment.uri} missing")
                continue
            durations.append(segment.duration)
            init = path.parent / segment.init_section.uri if inits and segment.init_section else None
            media.append((MediaSegment(segment.uri, segment.duration, file.stat().st_size), init))
        dateranges = sorted(
            (
                d.id,
                d.start_date,
                f"{d.duration:.3f}",
                d.class_,
                *sorted(f"{k}={v}" for k, v in d.x_client_attrs),
            )
            for segment in playlist.segments
            for d in segment.dateranges
        )
        kind = "fmp4" if inits else "ts"
        breaks = {n for n, segment in enumerate(playlist.segments) if segment.discontinuity}
        # audio after an outage comes from a new encoder run: its timestamps may go on, its priming
        # and state do not, and players must reset their decoder there (EXT-X-DISCONTINUITY)
        unmarked = [
            after.uri
            for before, after in itertools.pairwise(playlist.segments)
            if before.gap_tag and not after.gap_tag and not after.discontinuity
        ]
        if unmarked:
            problems.append(f"{name}: {unmarked[0]} follows GAP segments without EXT-X-DISCONTINUITY")
        if not rungs:
            timeline = [segment.duration for segment in playlist.segments]
            check_words(directory, master, timeline, problems, breaks)
        rungs.append(
            _Rung(
                name,
                path.parent,
                kind,
                variant.stream_info.bandwidth,
                playlist.target_duration,
                durations,
                media,
                dateranges,
                _frame_seconds(inits[0] if inits else None),
                breaks,
            )
        )
    return rungs


def _check(
    rungs: list[_Rung], source_duration: float, chapters: Sequence[Chapter], problems: list[str]
) -> None:
    if not rungs:
        return
    frame = max(rung.frame for rung in rungs)
    reference = rungs[0]
    for rung in rungs:
        peak, _ = bandwidths([segment for segment, _init in rung.media], rung.target)
        if rung.bandwidth < peak:
            problems.append(f"{rung.uri}: BANDWIDTH {rung.bandwidth} below measured peak {peak}")
        if len(rung.durations) != len(reference.durations):
            counts = f"{len(rung.durations)} segments, {reference.uri} has {len(reference.durations)}"
            problems.append(f"{rung.uri}: {counts}")
            continue
        if rung.dateranges != reference.dateranges:
            problems.append(f"{rung.uri}: DATERANGE tags differ from {reference.uri}")
        if rung.discontinuities != reference.discontinuities:
            # players match segments across variants by discontinuity sequence (RFC 8216 6.2.4)
            problems.append(f"{rung.uri}: its discontinuities are not where {reference.uri} has them")
        # Segments may differ by the last frame only (encoder padding at the end).
        for number, (mine, theirs) in enumerate(zip(rung.starts, reference.starts, strict=True)):
            if abs(mine - theirs) > frame + 1e-3:
                where = f"segment {number} starts at {mine:.3f} s, {reference.uri} at {theirs:.3f}"
                problems.append(f"{rung.uri}: {where}")
                break
        total = sum(rung.durations)
        # Encoded audio carries one priming frame and up to one frame of padding.
        if abs(total - source_duration) > 3 * frame + 0.05:
            problems.append(f"{rung.uri}: lasts {total:.3f} s, source {source_duration:.3f} s")
        for chapter in chapters:
            if min((abs(start - chapter.start) for start in rung.starts), default=1e9) > rung.frame + 1e-3:
                where = f"chapter {chapter.index} at {chapter.start:.3f} s"
                problems.append(f"{rung.uri}: {where} is not a segment start")


async def _decodes(ffmpeg: str, rung: _Rung) -> list[str]:
    """Decode the middle segment of the rung (init + segment for fMP4); the problems of an unclean run."""
    if not rung.media:
        return []
    middle, init = rung.media[len(rung.media) // 2]
    segment = rung.directory / middle.uri
    parts = [init, segment] if init is not None else [segment]
    payload = b"".join(part.read_bytes() for part in parts if part is not None)

    async def feed(stdin: asyncio.StreamWriter) -> None:
        stdin.write(payload)
        await stdin.drain()
        stdin.close()

    try:
        run = await run_ffmpeg(ffmpeg, ["-v", "error", "-i", "pipe:0", "-f", "null", "-"], stdin_feed=feed)
    except FFmpegError as exc:
        return [f"{rung.uri}: {segment.name} does not decode: {exc.stderr_tail[-1:]}"]
    if run.stderr:
        return [f"{rung.uri}: {segment.name} decodes with errors: {run.stderr[-1]}"]
    return []


async def validate_version(
    directory: Path, *, ffmpeg: str, source_duration: float, chapters: Sequence[Chapter] = ()
) -> None:
    """Raise ValidationError unless every playlist parses and agrees with the others, the source and the
    chapters, every declared BANDWIDTH covers the measured peak, a segment of each rung decodes, and the
    words (when the version has some) are announced and segmented like the audio."""
    problems: list[str] = []
    try:
        rungs = await asyncio.to_thread(_load, directory, problems)
    except (OSError, ValueError) as exc:
        raise ValidationError([f"playlists do not load: {exc}"]) from exc
    _check(rungs, source_duration, chapters, problems)
    # one decode per rung, side by side (each is mostly FFmpeg starting up); findings in rung order
    found = await run_all([_decodes(ffmpeg, rung) for rung in rungs])
    problems += [problem for rung_problems in found for problem in rung_problems]
    if problems:
        raise ValidationError(problems)

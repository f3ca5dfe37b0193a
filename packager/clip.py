"""Clips: any range of a version cut from its top fMP4 rung without re-encoding (DESIGN §9).

AAC frames decode on their own, so a clip is the rung's init segment and the frames of the range put in
one fragment by box surgery (packager/cmaf.py), then remuxed by stream copy into a faststart ``.m4a``
with the chapters that fall inside and title/artist/date tags (packager/download.py's remux). The range
snaps to the nearest frame boundaries: start and end are each within half a frame of what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import m3u8

from packager.chapters import Chapter, ffmetadata
from packager.cmaf import build_fragment, fragment_samples, fragments, read_track
from packager.download import remux_m4a
from packager.threads import run_blocking

# a segment's EXTINF is rounded: look one frame-ish further on each side, tfdt decides
_MARGIN_S = 0.1


class ClipError(ValueError):
    """The range cannot be cut from this rung (outside it, or nothing in it)."""


@dataclass(frozen=True)
class ClipCut:
    """The range actually cut, in seconds of the sitting (frame boundaries)."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class _Cut:
    init: bytes
    fragment: bytes
    cut: ClipCut


def segments_in_range(playlist: str, start: float, end: float) -> list[str]:
    """The URIs of the rung playlist's segments a cut of [start, end) reads (with a margin: EXTINF is
    rounded): the files to fetch when the rung is not on this machine's disk."""
    uris: list[str] = []
    position = 0.0
    for segment in m3u8.loads(playlist).segments:
        seg_start, position = position, position + float(segment.duration or 0)
        if position < start - _MARGIN_S or not segment.uri:
            continue
        if seg_start > end + _MARGIN_S:
            break
        uris.append(segment.uri)
    return uris


def _cut_frames(rung_dir: Path, start: float, end: float) -> _Cut:
    init = (rung_dir / "init.mp4").read_bytes()
    track = read_track(init)
    scale = track.timescale
    first, last = start * scale, end * scale
    entries: list[tuple[int, int]] = []
    payload = bytearray()
    cut_start: int | None = None
    cut_end = 0
    playlist = (rung_dir / "index.m3u8").read_text(encoding="utf-8")
    for uri in segments_in_range(playlist, start, end):
        for decode_time, data in fragments((rung_dir / uri).read_bytes()):
            samples = fragment_samples(data, track)
            offset = 0
            at = decode_time
            for duration, size in samples.entries:
                # a frame belongs to the clip when its middle is inside the range
                if first <= at + duration / 2 < last:
                    if cut_start is None:
                        cut_start = at
                    entries.append((duration, size))
                    payload += samples.payload[offset : offset + size]
                    cut_end = at + duration
                offset += size
                at += duration
    if cut_start is None:
        raise ClipError(f"no audio between {start:.3f} s and {end:.3f} s in {rung_dir.name}")
    fragment = build_fragment(entries, bytes(payload), sequence=1, decode_time=0)
    return _Cut(init, fragment, ClipCut(cut_start / scale, cut_end / scale))


def clip_chapters(chapters: Sequence[Chapter], cut: ClipCut) -> list[Chapter]:
    """The chapters overlapping the cut, clamped to it, in seconds from the start of the clip."""
    inside: list[Chapter] = []
    for chapter in chapters:
        start, end = max(chapter.start, cut.start), min(chapter.end, cut.end)
        if end - start < 1e-3:
            continue
        inside.append(
            chapter.model_copy(
                update={"index": len(inside) + 1, "start": start - cut.start, "end": end - cut.start}
            )
        )
    return inside


async def write_clip(
    ffmpeg: str,
    rung_dir: Path,
    target: Path,
    *,
    start: float,
    end: float,
    chapters: Sequence[Chapter] = (),
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ClipCut:
    """``target`` (an .m4a, written aside and renamed into place): [start, end) of the fMP4 rung in
    ``rung_dir`` (its ``index.m3u8``, ``init.mp4`` and segments), with the sitting's ``chapters``
    that fall inside."""
    if not 0 <= start < end:
        raise ClipError(f"bad range {start}–{end}")
    part = await run_blocking(_cut_frames, rung_dir, start, end)
    meta = ffmetadata(clip_chapters(chapters, part.cut), title, tags)
    await remux_m4a(ffmpeg, [part.init, part.fragment], target, meta)
    return part.cut

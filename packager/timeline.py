"""Where segments are cut: on AAC frame boundaries common to every rung. VOD: at every chapter start, never
longer than the target; live: parts and segments of whole frames (``live_durations``)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from packager.chapters import Chapter

AAC_FRAME = 1024  # samples per AAC-LC frame
# A grid coarser than this would move chapter starts audibly; fall back to the finest rung's frames.
_MAX_GRID = 0.1


def frame_grid(sample_rates: Iterable[int]) -> float:
    """Seconds between instants that are frame boundaries in every rung (1024 / gcd of the rates)."""
    rates = list(sample_rates)
    common = math.gcd(*rates)
    grid = AAC_FRAME / common
    return grid if grid <= _MAX_GRID else AAC_FRAME / max(rates)


def snap(seconds: float, grid: float) -> float:
    """The first grid instant at or after `seconds` (FFmpeg's segment muxer cuts at the first frame >= t)."""
    return math.ceil(seconds / grid - 1e-6) * grid


def plan_cuts(
    duration: float, chapter_starts: Sequence[float], grid: float, target: float = 6.0
) -> list[float]:
    """Cut instants (excluding 0 and the end), each a multiple of `grid`.

    The sitting is split into spans at chapter starts; each span is divided into the fewest equal parts no
    longer than `target`, so a chapter start is always a segment start and no segment is a sliver left over
    from a uniform grid. Parts are shortened by a frame so that snapping up never exceeds the target.
    """
    boundaries = sorted({snap(start, grid) for start in chapter_starts if 0 < snap(start, grid) < duration})
    edges = [0.0, *boundaries, duration]
    cuts: list[float] = []
    for span_start, span_end in itertools.pairwise(edges):
        if span_start > 0:
            cuts.append(span_start)
        length = span_end - span_start
        parts = max(1, math.ceil(length / (target - grid) - 1e-9))
        for part in range(1, parts):
            cut = snap(span_start + length * part / parts, grid)
            if span_start < cut < span_end and (not cuts or cut > cuts[-1]):
                cuts.append(cut)
    return cuts


def muxer_times(cuts: Sequence[float]) -> str:
    """The `-segment_times` argument: a hair before each instant so float rounding cannot skip a frame."""
    return ",".join(f"{max(cut - 0.0005, 0.0):.6f}" for cut in cuts)


def align_chapters(
    chapters: Sequence[Chapter], grid: float, duration: float, runs: Sequence[tuple[float, float]] = ()
) -> list[Chapter]:
    """Chapters moved to the frame instants where their segments start (at most one frame later).

    ``runs``: when the recording has gaps, its stretches of audio (start, end), each counting its frames
    from its own start; a chapter starting or ending in a gap does so where the audio comes back, and one
    left without audio is dropped.
    """
    stretches = runs or [(0.0, duration)]
    aligned: list[Chapter] = []
    for chapter in chapters:
        start = _on_audio(chapter.start, grid, stretches, duration)
        end = duration if chapter.end >= duration else _on_audio(chapter.end, grid, stretches, duration)
        if end - start > 0:
            aligned.append(chapter.model_copy(update={"index": len(aligned) + 1, "start": start, "end": end}))
    return aligned


def _on_audio(seconds: float, grid: float, runs: Sequence[tuple[float, float]], duration: float) -> float:
    """The first instant at or after ``seconds`` that is a frame boundary of a run (or ``duration``)."""
    for start, end in runs:
        placed = start + snap(max(seconds - start, 0.0), grid)
        if placed < end:
            return placed
    return duration


def frame_aligned_part(part_seconds: float, sample_rates: Sequence[int], frame: int = 1024) -> float:
    """The part duration FFmpeg's fragmenter produces for ``part_seconds``: whole frames in every rung.

    FFmpeg closes a fragment at the first frame reaching ``-frag_duration``; with the ladder's rates
    sharing a frame grid (1024 / gcd), that is the first grid multiple at or above the request.
    """
    grid = frame / math.gcd(*sample_rates)
    return math.ceil(part_seconds / grid - 1e-9) * grid


def live_durations(
    part_seconds: float, segment_seconds: float, sample_rates: Sequence[int]
) -> tuple[float, float]:
    """(part, segment) durations as cut: whole AAC frames per part, whole parts per segment."""
    part = frame_aligned_part(part_seconds, sample_rates)
    return part, max(1, round(segment_seconds / part)) * part

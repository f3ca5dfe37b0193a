"""Speakers' chapters in a live recording: each placed, as it comes, on a segment boundary not yet
published; at the end, made what VOD stores (each on a segment start, running to the next one)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from packager.chapters import Chapter, Speaker
from packager.live.playlist import LiveChapter
from packager.live.rendition import LiveRendition


def segment_start_at_or_after(rendition: LiveRendition, seconds: float) -> float:
    """Where a chapter asked for at ``seconds`` starts: the first segment boundary not yet published."""
    edge = rendition.edge
    target = rendition.segment_seconds
    if seconds <= edge:
        return edge
    # a later segment boundary, on the grid segments are being cut on
    return edge + math.ceil((seconds - edge) / target - 1e-9) * target


def place_chapters(
    rendition: LiveRendition, chapters: Sequence[LiveChapter]
) -> list[tuple[LiveChapter, int | None]]:
    """Append ``chapters`` to the rendition's, each moved to a boundary not yet published (the one before
    it ending there); returns each as placed, with the index of the chapter it ended."""
    placed: list[tuple[LiveChapter, int | None]] = []
    for chapter in chapters:
        start = segment_start_at_or_after(rendition, chapter.start)
        previous = rendition.chapters[-1] if rendition.chapters else None
        if previous is not None and start <= previous.start:
            start = previous.start + rendition.segment_seconds  # two speakers never share a start
        aligned = replace(chapter, start=start)
        if previous is not None:
            rendition.chapters[-1] = replace(previous, end=max(previous.start, start))
        rendition.chapters.append(aligned)
        placed.append((aligned, previous.index if previous else None))
    return placed


def restore_chapters(rendition: LiveRendition, chapters: Iterable[LiveChapter]) -> None:
    """Chapters placed by an earlier attempt of the recording (resumed), each ending the one before."""
    for chapter in chapters:
        if rendition.chapters:
            rendition.chapters[-1] = replace(rendition.chapters[-1], end=chapter.start)
        rendition.chapters.append(chapter)


def vod_chapters(rendition: LiveRendition) -> list[Chapter]:
    """The chapters as VOD stores them: each runs to the next one's start, the last to the end."""
    duration = rendition.duration
    # as in VOD, every chapter starts on a segment start (live, later boundaries were estimated)
    top = rendition.rungs[rendition.ladder.top_rung.name]
    starts = [segment.start for segment in top.segments if not segment.gap]
    kept: list[LiveChapter] = []
    for chapter in rendition.chapters:
        after = kept[-1].start if kept else -1.0
        start = next((s for s in starts if s >= chapter.start - 1e-6 and s > after + 1e-6), None)
        if start is not None and start < duration:
            kept.append(replace(chapter, start=start))
    out = []
    for i, chapter in enumerate(kept):
        end = kept[i + 1].start if i + 1 < len(kept) else duration
        out.append(
            Chapter(
                index=i + 1,
                start=chapter.start,
                end=max(chapter.start, min(end, duration)),
                speaker=Speaker(
                    id=chapter.speaker_id, name=chapter.speaker_name, group=chapter.speaker_group
                ),
            )
        )
    return out


def published_chapters(rendition: LiveRendition) -> list[Chapter]:
    """The chapters as ``chapters.json`` shows them while live: the ongoing one runs to the live edge."""
    edge = rendition.edge
    return [
        Chapter(
            index=chapter.index,
            start=chapter.start,
            end=max(chapter.start, edge if chapter.end is None else chapter.end),
            speaker=Speaker(id=chapter.speaker_id, name=chapter.speaker_name, group=chapter.speaker_group),
        )
        for chapter in rendition.chapters
    ]


def live_chapter(chapter: Chapter) -> LiveChapter:
    """A VOD chapter as a live playlist's DATERANGE shows it."""
    return LiveChapter(
        chapter.index,
        chapter.start,
        chapter.end,
        chapter.speaker.id,
        chapter.speaker.name,
        chapter.speaker.group,
    )

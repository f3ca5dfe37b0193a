"""Speaker chapters: validation, normalisation and the three files that carry them."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

# A repairable overlap is one where a chapter runs past the next start: it is cut there.
# Two chapters starting at the same time cannot be repaired: which one is meant is unknown.
_MIN_GAP = 1e-3


class ChapterError(ValueError):
    """Chapters that cannot be used as given; the message says which one and why."""


class Speaker(BaseModel):
    id: str | None = None
    name: str = Field(min_length=1)
    group: str | None = None


class ChapterIn(BaseModel):
    """A chapter as the caller gives it: seconds from the start of the sitting."""

    start: float
    end: float | None = None
    speaker: Speaker
    title: str | None = None


class Chapter(BaseModel):
    """A normalised chapter; `index` is 1-based and names the DATERANGE `ch-{index}`."""

    index: int
    start: float
    end: float
    speaker: Speaker
    title: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> str:
        """'<speaker> — <topic>', or the speaker alone."""
        return f"{self.speaker.name} — {self.title}" if self.title else self.speaker.name


_CHAPTERS_IN = TypeAdapter(list[ChapterIn])


def parse_chapters(data: Any) -> list[ChapterIn]:
    """ChapterIn objects from decoded JSON (a list of objects), or a ChapterError saying what is wrong."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ChapterError(f"chapters are not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ChapterError(
            "chapters must be a JSON array of {start, end?, speaker: {id?, name, group?}, title?}"
        )
    try:
        return _CHAPTERS_IN.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ChapterError(f"chapter {where}: {first['msg']}") from exc


def normalise_chapters(chapters: Sequence[ChapterIn], duration: float) -> list[Chapter]:
    """Sorted, clamped, non-overlapping chapters covering at most [0, duration].

    Ends default to the next start (or the end of the sitting); a chapter running past the next start is
    cut there; zero-length chapters are dropped. Negative or non-finite times, an end before its start,
    a start past the end of the sitting and two chapters starting together are refused.
    """
    for position, chapter in enumerate(chapters):
        name = chapter.speaker.name
        if not math.isfinite(chapter.start) or (chapter.end is not None and not math.isfinite(chapter.end)):
            raise ChapterError(f"chapter {position} ({name}): times must be finite numbers")
        if chapter.start < 0:
            raise ChapterError(f"chapter {position} ({name}): start {chapter.start} is negative")
        if chapter.end is not None and chapter.end < chapter.start:
            raise ChapterError(
                f"chapter {position} ({name}): end {chapter.end} is before start {chapter.start}"
            )
        if chapter.start >= duration:
            raise ChapterError(
                f"chapter {position} ({name}): starts at {chapter.start:.3f} s, "
                f"past the end of the sitting ({duration:.3f} s)"
            )
    ordered = sorted(chapters, key=lambda chapter: chapter.start)
    for previous, current in itertools.pairwise(ordered):
        if current.start - previous.start < _MIN_GAP:
            raise ChapterError(
                f"chapters of {previous.speaker.name} and {current.speaker.name} both start at "
                f"{current.start:.3f} s"
            )
    result: list[Chapter] = []
    for position, chapter in enumerate(ordered):
        next_start = ordered[position + 1].start if position + 1 < len(ordered) else duration
        end = min(chapter.end if chapter.end is not None else next_start, next_start, duration)
        if end - chapter.start < _MIN_GAP:
            continue
        index = len(result) + 1
        result.append(
            Chapter(index=index, start=chapter.start, end=end, speaker=chapter.speaker, title=chapter.title)
        )
    return result


def apple_chapters(chapters: Sequence[Chapter], language: str = "fr") -> list[dict[str, Any]]:
    """The `com.apple.hls.chapters` document: a JSON array of chapter entries."""
    entries: list[dict[str, Any]] = []
    for chapter in chapters:
        entry: dict[str, Any] = {
            "chapter": chapter.index,
            "start-time": round(chapter.start, 3),
            "duration": round(chapter.duration, 3),
            "titles": [{"language": language, "title": chapter.label}],
        }
        metadata: list[dict[str, str]] = []
        if chapter.speaker.id:
            metadata.append({"key": "speaker-id", "value": chapter.speaker.id})
        if chapter.speaker.group:
            metadata.append({"key": "speaker-group", "value": chapter.speaker.group})
        entry["metadata"] = metadata
        entries.append(entry)
    return entries


def vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt_chapters(chapters: Sequence[Chapter]) -> str:
    """WebVTT chapter cues, one per chapter, the cue text being '<speaker> — <topic>'."""
    lines = ["WEBVTT", ""]
    for chapter in chapters:
        # "-->" would end the cue timing line early; cue text cannot contain blank lines either.
        text = " ".join(chapter.label.replace("-->", "→").split())
        lines += [f"ch-{chapter.index}", f"{vtt_time(chapter.start)} --> {vtt_time(chapter.end)}", text, ""]
    return "\n".join(lines)


def _ffmeta_escape(value: str) -> str:
    escaped = value.replace("\\", "\\\\")
    for special in ("=", ";", "#"):
        escaped = escaped.replace(special, "\\" + special)
    return " ".join(escaped.split())


def ffmetadata(
    chapters: Sequence[Chapter], title: str | None = None, tags: Mapping[str, str] | None = None
) -> str:
    """An FFmpeg metadata file whose [CHAPTER] blocks become the MP4 chapters of download.m4a (and of
    clips); ``tags`` are more global tags (``artist``, ``date``…: the MP4 muxer maps them to iTunes atoms)."""
    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={_ffmeta_escape(title)}")
    for key, value in (tags or {}).items():
        if value:
            lines.append(f"{key}={_ffmeta_escape(value)}")
    for chapter in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(chapter.start * 1000)}",
            f"END={round(chapter.end * 1000)}",
            f"title={_ffmeta_escape(chapter.label)}",
        ]
    return "\n".join(lines) + "\n"

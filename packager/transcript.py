"""The words of a sitting (DESIGN §8): paragraphs as the caller gives them (TranscriptIn), validated and
normalised against the media, each tied to the chapter it falls in."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from packager.chapters import Chapter, Speaker

MAX_PARAGRAPH_CHARS = 100_000
MAX_TRANSCRIPT_BYTES = 20 << 20
# a paragraph belongs to the chapter it starts in; aligned chapter starts may be a frame later
_CHAPTER_SLACK = 0.05
# ordinary white space collapses; no-break spaces (French "?" ";" ":" "»") are kept as U+00A0
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_NO_BREAK = str.maketrans({"\u202f": "\u00a0", "\u2007": "\u00a0"})


def plain_spaces(text: str) -> str:
    """Runs of white space made one space, every kind of no-break space made U+00A0, ends trimmed."""
    return _SPACES.sub(" ", text.translate(_NO_BREAK)).strip(" ")


class TranscriptError(ValueError):
    """A transcript that cannot be used as given; the message names the paragraph and says why."""


class TranscriptIn(BaseModel):
    """A paragraph as the caller gives it: seconds from the start of the sitting."""

    start: float
    end: float | None = None
    speaker: Speaker
    text: str = Field(min_length=1)


class Paragraph(BaseModel):
    """A normalised paragraph, as transcript.json lists it; `index` is 1-based, `chapter` a chapter index."""

    index: int
    start: float
    end: float
    speaker: Speaker
    text: str
    chapter: int | None = None


_TRANSCRIPT_IN = TypeAdapter(list[TranscriptIn])


def parse_transcript(data: Any) -> list[TranscriptIn]:
    """TranscriptIn objects from decoded JSON (or its text), or a TranscriptError naming the paragraph."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"the transcript is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise TranscriptError("a transcript is a JSON array of {start, end?, speaker: {id?, name}, text}")
    try:
        return _TRANSCRIPT_IN.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        position, *rest = first["loc"]
        where = ".".join(str(part) for part in rest)
        raise TranscriptError(f"paragraph {position}{' ' + where if where else ''}: {first['msg']}") from exc


def check_sizes(paragraphs: Sequence[TranscriptIn]) -> None:
    """Refuse a paragraph over MAX_PARAGRAPH_CHARS or a sitting over MAX_TRANSCRIPT_BYTES of text."""
    total = 0
    for position, paragraph in enumerate(paragraphs):
        if len(paragraph.text) > MAX_PARAGRAPH_CHARS:
            raise TranscriptError(
                f"paragraph {position} ({paragraph.speaker.name}): {len(paragraph.text)} characters, "
                f"more than the {MAX_PARAGRAPH_CHARS} allowed"
            )
        total += len(paragraph.text.encode("utf-8"))
    if total > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(f"the transcript holds {total} bytes of text, more than {MAX_TRANSCRIPT_BYTES}")


def _check_times(position: int, paragraph: TranscriptIn, duration: float) -> None:
    name = paragraph.speaker.name
    if not math.isfinite(paragraph.start) or (paragraph.end is not None and not math.isfinite(paragraph.end)):
        raise TranscriptError(f"paragraph {position} ({name}): times must be finite numbers")
    if not 0 <= paragraph.start < duration:
        raise TranscriptError(
            f"paragraph {position} ({name}): starts at {paragraph.start:.3f} s, "
            f"outside the sitting (0 to {duration:.3f} s)"
        )
    if paragraph.end is not None and paragraph.end < paragraph.start:
        raise TranscriptError(
            f"paragraph {position} ({name}): end {paragraph.end} is before start {paragraph.start}"
        )
    if not paragraph.text.strip():
        raise TranscriptError(f"paragraph {position} ({name}): the text is empty")


def _chapter_of(start: float, chapters: Sequence[Chapter]) -> int | None:
    found = None
    for chapter in chapters:
        if chapter.start <= start + _CHAPTER_SLACK:
            found = chapter.index
    return found


def normalise_transcript(
    paragraphs: Sequence[TranscriptIn], duration: float, chapters: Sequence[Chapter] = ()
) -> list[Paragraph]:
    """Sorted (stable), non-overlapping paragraphs inside [0, duration], each with its chapter.

    Ends default to the next later start (or the end of the sitting) and are cut there; paragraphs
    starting together keep their order. Times outside the sitting, an end before its start, empty or
    oversized text are refused with a TranscriptError naming the paragraph (its position as given).
    """
    check_sizes(paragraphs)
    for position, paragraph in enumerate(paragraphs):
        _check_times(position, paragraph, duration)
    ordered = sorted(paragraphs, key=lambda paragraph: paragraph.start)
    starts = [paragraph.start for paragraph in ordered]
    result: list[Paragraph] = []
    for position, paragraph in enumerate(ordered):
        later = next((start for start in starts[position + 1 :] if start > paragraph.start), duration)
        end = min(paragraph.end if paragraph.end is not None else later, later, duration)
        result.append(
            Paragraph(
                index=position + 1,
                start=paragraph.start,
                end=end,
                speaker=paragraph.speaker,
                text=plain_spaces(paragraph.text),
                chapter=_chapter_of(paragraph.start, chapters),
            )
        )
    return result


def transcript_json(paragraphs: Sequence[Paragraph]) -> list[dict[str, Any]]:
    """transcript.json: the paragraphs, times rounded to the millisecond."""
    return [
        {
            **paragraph.model_dump(mode="json"),
            "start": round(paragraph.start, 3),
            "end": round(paragraph.end, 3),
        }
        for paragraph in paragraphs
    ]

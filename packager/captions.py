"""Caption cues from transcript paragraphs (DESIGN §8 ``transcript.vtt``).

A cue holds at most two lines of at most 42 characters (the usual broadcast limits) and lasts at most
about 7 s. Paragraph text is split at sentence ends first, then at clause punctuation, then between
words. A paragraph's first cue starts at the record's own time for it; the cues after it are spread
over the paragraph by text length, each start moved to the end of the nearest pause in the audio
within ±1.5 s when there is one (FFmpeg ``silencedetect``, packager/silences.py).
"""

from __future__ import annotations

import bisect
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from packager.transcript import Paragraph

MAX_LINE = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
SNAP_SECONDS = 1.5
# a cue shorter than this is not worth showing on its own; snapping never makes one
_MIN_CUE = 0.5
# after a sentence end a new cue starts, unless what the cue holds so far is shorter than this
_SHORT = 20
_SENTENCE_END = re.compile(r"(?<=[.!?…»)])\s+(?=[^\s])")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")

Pause = tuple[float, float]


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    paragraph: int  # Paragraph.index
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def wrap(text: str) -> list[str]:
    """Lines of at most MAX_LINE characters, broken at spaces (never at a no-break space when avoidable)."""
    return textwrap.wrap(text, MAX_LINE, break_long_words=True, break_on_hyphens=False) or [text]


def _fits(text: str) -> bool:
    return len(wrap(text)) <= MAX_LINES


def _units(text: str) -> list[tuple[str, bool]]:
    """Clauses, each flagged when it ends a sentence; a clause too long for one cue split between words."""
    units: list[tuple[str, bool]] = []
    for sentence in _SENTENCE_END.split(text):
        clauses = [c for c in _CLAUSE_END.split(sentence) if c]
        for number, clause in enumerate(clauses):
            pieces = [clause] if _fits(clause) else _word_pieces(clause)
            for position, piece in enumerate(pieces):
                last = number == len(clauses) - 1 and position == len(pieces) - 1
                units.append((piece, last))
    return units


def _word_pieces(text: str) -> list[str]:
    lines = wrap(text)
    return [" ".join(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]


def split_text(text: str) -> list[str]:
    """The paragraph's text cut into cue texts, each fitting MAX_LINES lines of MAX_LINE characters."""
    pieces: list[str] = []
    current = ""
    sentence_ended = False
    for unit, ends_sentence in _units(text):
        joined = f"{current} {unit}" if current else unit
        if current and (not _fits(joined) or (sentence_ended and len(current) >= _SHORT)):
            pieces.append(current)
            joined = unit
        current = joined
        sentence_ended = ends_sentence
    if current:
        pieces.append(current)
    return pieces


def _snap(instant: float, pauses: Sequence[Pause], ends: Sequence[float], low: float, high: float) -> float:
    """The end of the nearest pause within SNAP_SECONDS of ``instant`` inside (low, high), or ``instant``."""
    best, distance = instant, SNAP_SECONDS
    first = bisect.bisect_left(ends, instant - SNAP_SECONDS)
    for pause_start, pause_end in pauses[first:]:
        if pause_start > instant + SNAP_SECONDS:
            break
        gap = max(pause_start - instant, instant - pause_end, 0.0)
        if gap <= distance and low < pause_end < high:
            best, distance = pause_end, gap
    return best


def paragraph_cues(paragraph: Paragraph, pauses: Sequence[Pause] = ()) -> list[Cue]:
    pieces = split_text(paragraph.text)
    total = sum(len(piece) for piece in pieces) or 1
    span = paragraph.end - paragraph.start
    ends = [end for _start, end in pauses]
    # a paragraph too short in time for its words still shows each cue, briefly
    gap = min(_MIN_CUE, span / (2 * len(pieces)))
    starts = [paragraph.start]
    done = len(pieces[0])
    for piece in pieces[1:]:
        nominal = paragraph.start + span * done / total
        low = starts[-1] + gap
        starts.append(max(_snap(nominal, pauses, ends, low, paragraph.end - gap), low))
        done += len(piece)
    cues = []
    for number, (piece, start) in enumerate(zip(pieces, starts, strict=True)):
        following = starts[number + 1] if number + 1 < len(starts) else paragraph.end
        end = min(following, start + MAX_CUE_SECONDS, paragraph.end)
        if end > start:
            cues.append(Cue(start, end, paragraph.index, tuple(wrap(piece))))
    return cues


def build_cues(paragraphs: Sequence[Paragraph], pauses: Sequence[Pause] = ()) -> list[Cue]:
    """Every paragraph's cues, in time order."""
    ordered = sorted(pauses)
    return [cue for paragraph in paragraphs for cue in paragraph_cues(paragraph, ordered)]

"""The files that carry a version's words (DESIGN §8): ``transcript.json``, ``transcript.vtt`` and the
segmented WebVTT rendition ``subs/`` that players list as a subtitle track.

WebVTT is written and read with webvtt-py (its segmenter only cuts on a uniform grid of whole seconds,
while our audio segments end at chapter starts, so segments are cut here along the audio's own).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import m3u8
import webvtt

from packager.atomic import write_atomic
from packager.captions import Cue
from packager.chapters import vtt_time
from packager.playlists import MediaSegment, media_playlist
from packager.transcript import Paragraph, transcript_json

TRANSCRIPT_JSON = "transcript.json"
TRANSCRIPT_VTT = "transcript.vtt"
SUBS_DIR = "subs"
SUBS_PLAYLIST = f"{SUBS_DIR}/index.m3u8"
# Cue time 0 is the sitting's time 0, which the rungs' first sample carries (their timeline starts at 0).
MPEGTS_ORIGIN = 0


@dataclass(frozen=True)
class Words:
    """A version's transcript: its paragraphs and the caption cues made of them."""

    paragraphs: list[Paragraph]
    cues: list[Cue]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def voice(paragraph: Paragraph) -> str:
    """The voice span's annotation: 'Name (GROUP)' or the name alone."""
    speaker = paragraph.speaker
    name = f"{speaker.name} ({speaker.group})" if speaker.group else speaker.name
    return " ".join(_escape(name).split())


def _caption(cue: Cue, speaker: str) -> webvtt.Caption:
    lines = [_escape(line.replace("-->", "→")) for line in cue.lines]
    lines[0] = f"<v {speaker}>{lines[0]}"
    return webvtt.Caption(vtt_time(cue.start), vtt_time(cue.end), lines)


def _document(cues: Sequence[Cue], voices: dict[int, str], metadata: list[str] | None = None) -> str:
    captions = [_caption(cue, voices[cue.paragraph]) for cue in cues]
    return webvtt.WebVTT(captions=captions, metadata=metadata).content


def segment_cues(cues: Sequence[Cue], durations: Sequence[float]) -> list[list[Cue]]:
    """The cues shown during each segment; a cue crossing a segment edge is in both (WebVTT allows it)."""
    segments: list[list[Cue]] = []
    start = 0.0
    for number, duration in enumerate(durations):
        end = start + duration
        last = number == len(durations) - 1
        segments.append([cue for cue in cues if cue.end > start and (cue.start < end or last)])
        start = end
    return segments


def write_transcript_files(
    directory: Path,
    paragraphs: Sequence[Paragraph],
    cues: Sequence[Cue],
    *,
    durations: Sequence[float],
    starts_at: datetime | None,
    target: float,
    discontinuities: Collection[int] = (),
) -> None:
    """transcript.json, transcript.vtt and subs/ (one ``sub_{n}.vtt`` per audio segment, a discontinuity
    where the audio has one: a recording's run after an outage); blocking."""
    voices = {paragraph.index: voice(paragraph) for paragraph in paragraphs}
    text = json.dumps(transcript_json(paragraphs), ensure_ascii=False, indent=1)
    write_atomic(directory / TRANSCRIPT_JSON, text)
    write_atomic(directory / TRANSCRIPT_VTT, _document(cues, voices))
    subs = directory / SUBS_DIR
    subs.mkdir(exist_ok=True)
    timestamp_map = [f"X-TIMESTAMP-MAP=MPEGTS:{MPEGTS_ORIGIN},LOCAL:00:00:00.000"]
    segments: list[MediaSegment] = []
    for number, (shown, duration) in enumerate(zip(segment_cues(cues, durations), durations, strict=True)):
        name = f"sub_{number}.vtt"
        content = _document(shown, voices, timestamp_map)
        write_atomic(subs / name, content)
        segments.append(MediaSegment(name, duration, len(content.encode("utf-8"))))
    playlist = media_playlist(
        segments,
        kind="vtt",
        ended=True,
        chapters=(),
        starts_at=starts_at,
        target=target,
        discontinuities=discontinuities,
    )
    write_atomic(subs / "index.m3u8", playlist)


def write_words(directory: Path, words: Words, reference_playlist: Path) -> None:
    """The transcript files, ``subs/`` segmented like the (final) rung playlist ``reference_playlist``."""
    reference = m3u8.load(str(reference_playlist))
    write_transcript_files(
        directory,
        words.paragraphs,
        words.cues,
        durations=[segment.duration for segment in reference.segments],
        starts_at=reference.program_date_time,
        target=float(reference.target_duration or 6),
        discontinuities={n for n, segment in enumerate(reference.segments) if segment.discontinuity},
    )

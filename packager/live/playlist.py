"""Writing live media playlists (plain HLS and Low-Latency HLS from the same file).

Playlist-wide tags (DATERANGEs included) come before the first segment and every segment has its own
PROGRAM-DATE-TIME, so that a delta update (``_HLS_skip=YES``) is a pure text transform of the file
(packager/live/reload.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from packager.playlists import _quoted, daterange_tag, iso_date, playlist_version

# Parts are listed for the segments within this many target durations of the live edge (RFC 8216bis §4.4.4.9).
PART_WINDOW_TARGETS = 3


@dataclass
class LivePart:
    uri: str
    duration: float


@dataclass
class LiveSegment:
    """One segment of a rung: complete (``uri`` set), or a gap the source left (``gap``)."""

    number: int
    uri: str
    duration: float
    start: float  # seconds since the sitting began (the gapless media timeline)
    pdt: datetime
    parts: list[LivePart] = field(default_factory=list)
    gap: bool = False
    discontinuity: bool = False
    map_uri: str | None = None  # a new init segment starts here


@dataclass(frozen=True)
class LiveChapter:
    """An intervention from ``start`` (seconds since the sitting began) to ``end`` (None: ongoing)."""

    index: int
    start: float
    end: float | None
    speaker_id: str | None
    speaker_name: str
    speaker_group: str | None = None


@dataclass
class LivePlaylistState:
    """What one rung's playlist shows: its segments, the segment being built, and how to announce it."""

    kind: str  # fmp4 (LL-HLS parts) or ts (plain HLS)
    init_uri: str
    segment_target: float
    part_target: float
    starts_at: datetime
    segments: list[LiveSegment] = field(default_factory=list)
    open_parts: list[LivePart] = field(default_factory=list)
    next_part_uri: str | None = None
    window: float = 0.0  # seconds of DVR kept in the playlist; 0 = the whole sitting (EVENT)
    ended: bool = False

    @property
    def low_latency(self) -> bool:
        return self.kind == "fmp4" and self.part_target > 0


def daterange(chapter: LiveChapter, starts_at: datetime) -> str:
    duration = None if chapter.end is None else chapter.end - chapter.start
    speaker = (chapter.speaker_id, chapter.speaker_name, chapter.speaker_group)
    return daterange_tag(chapter.index, chapter.start, duration, speaker, starts_at)


def skip_boundary(segment_target: float) -> float:
    """CAN-SKIP-UNTIL: six target durations, the least the specification allows."""
    return 6.0 * max(1, round(segment_target))


def _window(state: LivePlaylistState) -> list[LiveSegment]:
    if state.window <= 0 or state.ended:
        return state.segments
    kept: list[LiveSegment] = []
    total = 0.0
    for segment in reversed(state.segments):
        if total >= state.window and len(kept) >= 3:
            break
        kept.append(segment)
        total += segment.duration
    return kept[::-1]


def live_playlist(state: LivePlaylistState, chapters: Sequence[LiveChapter]) -> str:
    segments = _window(state)
    target = max([max(1, round(state.segment_target)), *(round(s.duration) for s in segments)])
    low_latency = state.low_latency and not state.ended
    first = segments[0].number if segments else len(state.segments)
    removed = state.segments[: len(state.segments) - len(segments)]
    lines = [
        "#EXTM3U",
        # a finished recording is a plain VOD playlist: the version of VOD
        f"#EXT-X-VERSION:{playlist_version(state.kind, low_latency=low_latency)}",
        f"#EXT-X-TARGETDURATION:{target}",
    ]
    if low_latency:
        lines += [
            f"#EXT-X-PART-INF:PART-TARGET={state.part_target:.3f}",
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
            f"PART-HOLD-BACK={3 * state.part_target:.3f},"
            f"CAN-SKIP-UNTIL={skip_boundary(state.segment_target):.1f}",
        ]
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{first}")
    discontinuities = sum(1 for s in removed if s.discontinuity)
    if discontinuities:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuities}")
    if state.window <= 0 or state.ended:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{'VOD' if state.ended else 'EVENT'}")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    if state.kind == "fmp4":
        map_uri = next((s.map_uri for s in reversed(removed) if s.map_uri), state.init_uri)
        lines.append(f"#EXT-X-MAP:URI={_quoted(map_uri)}")
    lines += [daterange(chapter, state.starts_at) for chapter in chapters]
    edge = sum(s.duration for s in segments)
    position = 0.0
    for segment in segments:
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
            if segment.map_uri and state.kind == "fmp4":
                lines.append(f"#EXT-X-MAP:URI={_quoted(segment.map_uri)}")
        if not segment.gap and low_latency and edge - position <= PART_WINDOW_TARGETS * target:
            lines += [_part(part) for part in segment.parts]
        # right before its EXTINF, where every reader attaches it to the segment
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_date(segment.pdt)}")
        if segment.gap:
            lines.append("#EXT-X-GAP")
        lines += [f"#EXTINF:{segment.duration:.6f},", segment.uri]
        position += segment.duration
    if low_latency:
        if state.open_parts:
            open_start = state.starts_at + timedelta(seconds=_edge_start(state))
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_date(open_start)}")
        lines += [_part(part) for part in state.open_parts]
        if state.next_part_uri:
            lines.append(f"#EXT-X-PRELOAD-HINT:TYPE=PART,URI={_quoted(state.next_part_uri)}")
    if state.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _edge_start(state: LivePlaylistState) -> float:
    if not state.segments:
        return 0.0
    last = state.segments[-1]
    return last.start + last.duration


def _part(part: LivePart) -> str:
    # every AAC frame decodes on its own: each part is independent
    return f"#EXT-X-PART:DURATION={part.duration:.6f},URI={_quoted(part.uri)},INDEPENDENT=YES"

"""Live media playlists (plain HLS and Low-Latency HLS from the same file) and what a server needs from them.

The writer puts playlist-wide tags (DATERANGEs included) before the first segment and a
PROGRAM-DATE-TIME on every segment, so that a delta update (``_HLS_skip=YES``) is a pure text
transform of the file: :func:`skip_segments`. :func:`playlist_position` reads what a blocking
reload (``_HLS_msn``/``_HLS_part``) waits for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from packager.playlists import SPEAKER_CLASS, _quoted, iso_date

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
    attributes = [
        f"ID={_quoted(f'ch-{chapter.index}')}",
        f"CLASS={_quoted(SPEAKER_CLASS)}",
        f"START-DATE={_quoted(iso_date(starts_at + timedelta(seconds=chapter.start)))}",
    ]
    if chapter.end is not None:
        attributes.append(f"DURATION={chapter.end - chapter.start:.3f}")
    if chapter.speaker_id:
        attributes.append(f"X-SPEAKER-ID={_quoted(chapter.speaker_id)}")
    attributes.append(f"X-SPEAKER-NAME={_quoted(chapter.speaker_name)}")
    if chapter.speaker_group:
        attributes.append(f"X-SPEAKER-GROUP={_quoted(chapter.speaker_group)}")
    return "#EXT-X-DATERANGE:" + ",".join(attributes)


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
        # 9: EXT-X-SKIP; 7: EXT-X-MAP in media playlists; 3: plain TS with float EXTINF
        f"#EXT-X-VERSION:{9 if state.low_latency else (7 if state.kind == 'fmp4' else 3)}",
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


@dataclass(frozen=True)
class PlaylistPosition:
    """Where a live playlist stands: its last complete segment and the parts of the one being built."""

    media_sequence: int
    segments: int
    open_parts: int
    ended: bool
    target: float
    skip_until: float | None

    @property
    def next_msn(self) -> int:
        """Media sequence number of the segment being built (its parts may be listed)."""
        return self.media_sequence + self.segments

    def has(self, msn: int, part: int | None) -> bool:
        """True once the playlist holds segment ``msn`` complete, or its part ``part``."""
        if self.ended or msn < self.next_msn:
            return True
        return part is not None and msn == self.next_msn and part < self.open_parts


_INT = re.compile(r"^#EXT-X-(MEDIA-SEQUENCE|TARGETDURATION):(\d+)")
_SKIP = re.compile(r"CAN-SKIP-UNTIL=([\d.]+)")
_SKIPPED = re.compile(r"SKIPPED-SEGMENTS=(\d+)")


def playlist_position(text: str) -> PlaylistPosition:
    values = {"MEDIA-SEQUENCE": 0, "TARGETDURATION": 0}
    segments = open_parts = 0
    skip_until = None
    ended = False
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            segments += 1
            open_parts = 0
        elif line.startswith("#EXT-X-PART:"):
            open_parts += 1
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line.startswith("#EXT-X-SKIP:") and (skipped := _SKIPPED.search(line)):
            segments += int(skipped.group(1))  # a delta update still numbers the skipped segments
        elif match := _INT.match(line):
            values[match.group(1)] = int(match.group(2))
        elif line.startswith("#EXT-X-SERVER-CONTROL:") and (found := _SKIP.search(line)):
            skip_until = float(found.group(1))
    # parts listed before an EXTINF belong to that (complete) segment: only trailing ones are open
    return PlaylistPosition(
        media_sequence=values["MEDIA-SEQUENCE"],
        segments=segments,
        open_parts=open_parts,
        ended=ended,
        target=float(values["TARGETDURATION"]),
        skip_until=skip_until,
    )


def skip_segments(text: str) -> str:
    """The delta update of a playlist this module wrote: old segments replaced by ``EXT-X-SKIP``.

    Segments further than CAN-SKIP-UNTIL from the end are skipped (their tags go with them; every
    kept segment carries its own PROGRAM-DATE-TIME, and the skipped ones' DATERANGEs stay, being
    playlist-wide). Without CAN-SKIP-UNTIL the playlist is returned unchanged.
    """
    position = playlist_position(text)
    if position.skip_until is None:
        return text
    lines = text.splitlines()
    header: list[str] = []
    blocks: list[tuple[list[str], float]] = []
    current: list[str] = []
    duration = 0.0
    in_segments = False
    for line in lines:
        if not in_segments and (
            line.startswith(("#EXT-X-PROGRAM-DATE-TIME", "#EXTINF", "#EXT-X-DISCONTINUITY:", "#EXT-X-PART:"))
            or line == "#EXT-X-DISCONTINUITY"
        ):
            in_segments = True
        if not in_segments:
            header.append(line)
            continue
        current.append(line)
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            blocks.append((current, duration))
            current = []
    tail = current  # open parts, preload hint, ENDLIST
    remaining = sum(d for _, d in blocks)
    skipped = 0
    for block, block_duration in blocks:
        # a discontinuity or a new map cannot be skipped over (the client would lose it)
        if remaining - block_duration <= position.skip_until or any(
            line.startswith(("#EXT-X-DISCONTINUITY", "#EXT-X-MAP")) for line in block
        ):
            break
        remaining -= block_duration
        skipped += 1
    if skipped == 0:
        return text
    kept = [line for block, _ in blocks[skipped:] for line in block]
    out = [*header, f"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}", *kept, *tail]
    return "\n".join(out).rstrip("\n") + "\n"


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

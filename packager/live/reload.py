"""What a server answering Low-Latency HLS reloads reads from a live playlist (packager/live/playlist.py
wrote it): where it stands, for a blocking reload (``_HLS_msn``/``_HLS_part``), and its delta update
(``_HLS_skip=YES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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


_SKIP = re.compile(r"CAN-SKIP-UNTIL=([\d.]+)")
_SKIPPED = re.compile(r"SKIPPED-SEGMENTS=(\d+)")
# a discontinuity or a new map cannot be skipped over (the client would lose it)
UNSKIPPABLE_TAGS = ("#EXT-X-DISCONTINUITY", "#EXT-X-MAP")
UNSKIPPABLE = tuple("\n" + tag for tag in UNSKIPPABLE_TAGS)
_SEGMENT_LINE = re.compile(
    r"^(?:#EXT-X-PROGRAM-DATE-TIME|#EXTINF|#EXT-X-DISCONTINUITY:|#EXT-X-PART:|#EXT-X-DISCONTINUITY$)",
    re.MULTILINE,
)


# An 8-hour live playlist is ~14 400 segments (over 1 MB), read again at every new part: the functions
# below find and count with str methods (C loops; a multi-line regular expression would test every
# position), and skip_segments walks only the end of the playlist line by line, never the whole of it.
def _lines_of(lined: str, tag: str) -> list[str]:
    """Every line starting with ``tag`` (``lined`` starts with a newline)."""
    found, start = [], lined.find("\n" + tag)
    while start >= 0:
        end = lined.find("\n", start + 1)
        found.append(lined[start + 1 : end if end >= 0 else len(lined)])
        start = lined.find("\n" + tag, start + 1)
    return found


def _last_number(lined: str, tag: str) -> int:
    """The number after the last line ``tag`` that has one (0 without)."""
    for line in reversed(_lines_of(lined, tag)):
        if number := re.match(r"\d+", line[len(tag) :]):
            return int(number.group())
    return 0


def playlist_position(text: str) -> PlaylistPosition:
    lined = "\n" + text  # every tag then starts after a newline
    segments = lined.count("\n#EXTINF:")
    # parts listed before an EXTINF belong to that (complete) segment: only trailing ones are open
    open_parts = lined.count("\n#EXT-X-PART:", max(lined.rfind("\n#EXTINF:"), 0))
    # a delta update still numbers the skipped segments
    for line in _lines_of(lined, "#EXT-X-SKIP:"):
        if skipped := _SKIPPED.search(line):
            segments += int(skipped.group(1))
    skip_until = None
    for line in _lines_of(lined, "#EXT-X-SERVER-CONTROL:"):
        if found := _SKIP.search(line):
            skip_until = float(found.group(1))
    return PlaylistPosition(
        media_sequence=_last_number(lined, "#EXT-X-MEDIA-SEQUENCE:"),
        segments=segments,
        open_parts=open_parts,
        ended="\n#EXT-X-ENDLIST" in lined,
        target=float(_last_number(lined, "#EXT-X-TARGETDURATION:")),
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
    first = _SEGMENT_LINE.search(text)
    start = first.start() if first else len(text)
    cut = _tail_start(text, start, position.skip_until)
    if cut > start and all(text.find(tag, start - 1, cut) < 0 for tag in UNSKIPPABLE):
        # every segment before ``cut`` is skipped: only the tail is walked line by line
        return _skip(text, text[:start], text[cut:], text.count("#EXTINF:", start, cut), position.skip_until)
    return _skip(text, text[:start], text[start:], 0, position.skip_until)


def _tail_start(text: str, start: int, skip_until: float) -> int:
    """Where the segment whose tail from there on lasts more than ``skip_until`` begins (or ``start``).

    Skipping depends only on the duration after each segment, so every segment before it is skipped.
    """
    end, total = len(text), 0.0
    while (extinf := text.rfind("\n#EXTINF:", start, end)) >= 0:
        total += float(text[extinf + 9 : text.index(",", extinf)])
        end = extinf
        if total > skip_until:
            previous = text.rfind("\n#EXTINF:", start, extinf)
            if previous < 0:
                return start
            uri_end = text.index("\n", text.index("\n", previous + 1) + 1)  # its EXTINF line, then its URI
            return uri_end + 1
    return start


def _skip(text: str, head: str, segment_text: str, skipped: int, skip_until: float) -> str:
    header = head.splitlines()
    blocks: list[tuple[list[str], float]] = []
    current: list[str] = []
    duration = 0.0
    for line in segment_text.splitlines():
        current.append(line)
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            blocks.append((current, duration))
            current = []
    tail = current  # open parts, preload hint, ENDLIST
    remaining = sum(d for _, d in blocks)
    dropped = 0
    for block, block_duration in blocks:
        if remaining - block_duration <= skip_until or any(
            line.startswith(UNSKIPPABLE_TAGS) for line in block
        ):
            break
        remaining -= block_duration
        dropped += 1
    if skipped + dropped == 0:
        return text
    kept = [line for block, _ in blocks[dropped:] for line in block]
    out = [*header, f"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped + dropped}", *kept, *tail]
    return "\n".join(out).rstrip("\n") + "\n"

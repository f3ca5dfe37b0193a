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

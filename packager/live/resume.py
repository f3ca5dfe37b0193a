"""Resuming a live recording another attempt of its job left: the rendition rebuilt from its playlists.

The playlists on disk say everything the next segments depend on: the segments (durations, dates,
gaps, discontinuities, init segments), hence the decode time to continue from. Parts of the segment
left unfinished are dropped; the next run starts after a GAP segment, so none of their names is reused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from packager.cmaf import read_track
from packager.ladder import Ladder
from packager.live.playlist import LiveSegment
from packager.live.rendition import LiveRendition
from packager.playlists import PLAYLIST_NAME
from packager.segmenter import INIT_NAME


def resumable(window: float) -> bool:
    """Whether a recording can be resumed: its playlists name the whole sitting (no DVR window)."""
    return window <= 0


def resume_rendition(
    version_dir: Path,
    ladder: Ladder,
    *,
    part_seconds: float,
    segment_seconds: float,
    window: float = 0.0,
) -> LiveRendition | None:
    """The recording an earlier attempt left, rebuilt from its playlists (whole-sitting ones only);
    None when there is nothing to go on."""
    if not resumable(window):
        return None
    parsed: dict[str, list[LiveSegment]] = {}
    for rung in ladder.rungs:
        try:
            text = (version_dir / rung.name / PLAYLIST_NAME).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        parsed[rung.name] = _segments_of(text)
    first = parsed[ladder.rungs[0].name]
    if not first:
        return None
    rendition = LiveRendition(
        version_dir,
        ladder,
        starts_at=first[0].pdt,
        part_seconds=part_seconds,
        segment_seconds=segment_seconds,
        window=window,
    )
    rendition.run = 1 + sum(1 for segment in first if segment.discontinuity)
    for name, state in rendition.rungs.items():
        state.playlist.segments = parsed[name]
        if state.rung.kind != "fmp4":
            continue
        maps = [segment.map_uri for segment in parsed[name] if segment.map_uri]
        state.init = (state.directory / (maps[-1] if maps else INIT_NAME)).read_bytes()
        state.track = read_track(state.init)
        state.decode_time = sum(round(s.duration * state.track.timescale) for s in parsed[name])
        # mfhd numbers only have to grow: above anything the earlier attempt can have used
        state.sequence = 1000 * (len(parsed[name]) + 1)
    rendition.resumed = True
    return rendition


_PDT = "#EXT-X-PROGRAM-DATE-TIME:"


def _segments_of(text: str) -> list[LiveSegment]:
    """The complete segments of a live playlist this module wrote (parts and open parts left out)."""
    segments: list[LiveSegment] = []
    pdt: datetime | None = None
    duration = 0.0
    gap = discontinuity = False
    map_uri: str | None = None
    seen_map = False
    start = 0.0
    for line in text.splitlines():
        if line.startswith(_PDT):
            pdt = datetime.fromisoformat(line[len(_PDT) :].replace("Z", "+00:00"))
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line == "#EXT-X-GAP":
            gap = True
        elif line.startswith("#EXT-X-MAP:"):
            if seen_map:
                map_uri = line.split('URI="', 1)[1].rstrip('"')
            seen_map = True
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            assert pdt is not None
            segments.append(
                LiveSegment(
                    number=len(segments),
                    uri=line,
                    duration=duration,
                    start=start,
                    pdt=pdt,
                    gap=gap,
                    discontinuity=discontinuity,
                    map_uri=map_uri,
                )
            )
            start += duration
            gap = discontinuity = False
            map_uri = None
    return segments

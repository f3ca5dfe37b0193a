"""A live sitting's version directory, filled as FFmpeg's fragments arrive (packager/live/recorder.py
drives it; the TS rung follows in ts_rung.py, the chapters in chapters.py).

Layout (docs/architecture.md §3, same as VOD): ``v{n}/master.m3u8``, ``v{n}/{rung}/index.m3u8``, ``init.mp4``,
``seg_{n}.m4s`` (2 s segments) and, while live, ``part_{n}_{i}.m4s`` (the Low-Latency HLS parts a segment
is made of, cut in packager/live/rung.py). The TS rung has ``seg_{n}.ts``.

Time: ``start`` of a segment counts seconds since the sitting began, gaps included, and its
PROGRAM-DATE-TIME is the wall clock at which the source emitted its first sample. A run is one FFmpeg
process; when the source drops and comes back, a new run starts after GAP segments covering the outage
and an ``EXT-X-DISCONTINUITY``. Decode times (tfdt) continue across runs, gaps included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from packager.atomic import write_atomic
from packager.ladder import Ladder, twin_of
from packager.live.playlist import LiveChapter, LivePlaylistState, LiveSegment, live_playlist
from packager.live.rung import LiveRung, PartCallback, SegmentCallback
from packager.playlists import (
    MASTER_NAME,
    PLAYLIST_NAME,
    MediaSegment,
    Variant,
    ladder_variants,
    master_playlist,
)
from packager.segmenter import INIT_NAME


def _append_gap(state: LiveRung, starts_at: datetime, end: float) -> None:
    """A GAP segment from the rung's end to ``end`` (media time): no media, the decode time goes on."""
    start = state.end
    duration = end - start
    number = len(state.segments)
    state.segments.append(
        LiveSegment(
            number=number,
            uri=f"gap_{number}.{'m4s' if state.rung.kind == 'fmp4' else 'ts'}",
            duration=duration,
            start=start,
            pdt=starts_at + timedelta(seconds=start),
            gap=True,
        )
    )
    if state.track is not None:
        state.decode_time += round(duration * state.track.timescale)


class LiveRendition:
    """The rungs of one live version; blocking file work, run it in a thread."""

    def __init__(
        self,
        version_dir: Path,
        ladder: Ladder,
        *,
        starts_at: datetime,
        part_seconds: float,
        segment_seconds: float,
        window: float = 0.0,
    ) -> None:
        self.directory = version_dir
        self.ladder = ladder
        self.starts_at = starts_at
        self.part_seconds = part_seconds
        self.segment_seconds = segment_seconds
        self.chapters: list[LiveChapter] = []
        self.run = 0
        self.rungs = {
            rung.name: LiveRung(
                rung=rung,
                directory=version_dir / rung.name,
                part_seconds=part_seconds,
                segment_seconds=segment_seconds,
                playlist=LivePlaylistState(
                    kind=rung.kind,
                    init_uri=INIT_NAME,
                    segment_target=segment_seconds,
                    part_target=part_seconds if rung.kind == "fmp4" else 0.0,
                    starts_at=starts_at,
                    window=window,
                ),
            )
            for rung in ladder.rungs
            if rung.kind == "fmp4" or twin_of(rung, ladder) is not None
        }
        self.resumed = False  # rebuilt from an earlier attempt's playlists (packager/live/resume.py)
        self._resumed_run = False
        for state in self.rungs.values():
            state.directory.mkdir(parents=True, exist_ok=True)

    # -- runs and gaps ---------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Media time published in every rung (the slowest rung's end)."""
        return min(state.end for state in self.rungs.values())

    @property
    def edge(self) -> float:
        """Media time published in the fastest rung: where the next segment starts."""
        return max(state.end for state in self.rungs.values())

    def begin_run(self, pdt: datetime) -> float:
        """A new FFmpeg run whose first sample the source emitted at ``pdt``; returns the gap marked (s).

        The outage since the last run becomes GAP segments of about the segment duration; the first one
        of each rung also covers what that rung lacks to the fastest one's end, so that every rung starts
        the new run at the same media time (segment boundaries must match across rungs). A rung that lacks
        whole segments (resumed from playlists an attempt that died had not all written) gets GAP
        segments in their places first: every rung keeps the same segments.
        """
        self.run += 1
        gap = 0.0
        if any(state.segments for state in self.rungs.values()):
            gap = max(0.0, (pdt - self.starts_at).total_seconds() - self.edge)
        count = round(gap / self.segment_seconds) if gap >= self.segment_seconds / 2 else 0
        if self.resumed and not self._resumed_run:
            # the first run after a resume: a gap segment at least, so that no part name of the
            # segment the earlier attempt left unfinished is reused with other bytes
            self._resumed_run = True
            count = max(count, 1)
            gap = max(gap, self.segment_seconds)
        edge = self.edge
        encoded = [state for state in self.rungs.values() if state.rung.kind != "ts"]
        longest = list(max(encoded, key=lambda state: len(state.segments)).segments)  # before its gaps
        for state in self.rungs.values():
            if state.rung.kind == "ts":
                continue  # mirrors its twin, gaps included
            for lacking in longest[len(state.segments) :]:
                _append_gap(state, self.starts_at, lacking.start + lacking.duration)
            for i in range(count):
                _append_gap(state, self.starts_at, edge + (i + 1) * gap / count)
            state.run_decode = state.decode_time
            state.run_start = state.end
            state.run_pdt = pdt if state.segments else self.starts_at
            state.run_offset = 0.0
            # a new encoder: the TS rung's timestamps restart, and players should reset their decoder
            state.discontinuity = self.run > 1
            state.playlist.next_part_uri = None
        return gap if count else 0.0

    def end_run(self) -> None:
        """The run's FFmpeg has flushed everything: what is left of the open segment becomes a segment."""
        for state in self.rungs.values():
            state.end_run()

    def add_fragment(self, name: str, init: bytes, data: bytes) -> bool:
        """One moof+mdat of rung ``name`` (a frame or a few); True when that closed a segment."""
        return self.rungs[name].add_fragment(init, data, run=self.run)

    def flush_part(self, name: str) -> bool:
        """The frames FFmpeg gave so far (it went quiet: a source segment is all in) as a shorter part;
        True when that closed a segment."""
        return self.rungs[name].flush_part()

    def set_callbacks(self, on_part: PartCallback | None, on_segment: SegmentCallback | None) -> None:
        for state in self.rungs.values():
            state.on_part, state.on_segment = on_part, on_segment

    # -- playlists ---------------------------------------------------------------------------------

    def write_playlists(self) -> None:
        for name in self.rungs:
            self.write_playlist(name)

    def write_playlist(self, name: str) -> None:
        state = self.rungs[name]
        if state.segments or state.playlist.open_parts:
            write_atomic(state.directory / PLAYLIST_NAME, live_playlist(state.playlist, self.chapters))

    def playable(self) -> bool:
        return all(state.segments or state.playlist.open_parts for state in self.rungs.values())

    def variants(self, *, measured: bool) -> list[Variant]:
        def media(state: LiveRung) -> list[MediaSegment]:
            # sizes are read only when measuring (the live master is written with nominal bandwidths)
            if not measured:
                return []
            return [
                MediaSegment(s.uri, s.duration, (state.directory / s.uri).stat().st_size)
                for s in state.segments
                if not s.gap
            ]

        return ladder_variants(
            ((state.rung, media(state)) for state in self.rungs.values()),
            measured=measured,
            target=self.segment_seconds,
        )

    def write_master(self) -> None:
        write_atomic(self.directory / MASTER_NAME, master_playlist(self.variants(measured=False)))

    # -- the end ---------------------------------------------------------------------------------

    def end(self, chapters: list[LiveChapter]) -> None:
        """ENDLIST playlists (no parts) with the final ``chapters``; the parts' files removed."""
        self.chapters = chapters
        for state in self.rungs.values():
            state.playlist.ended = True
            state.playlist.open_parts = []
            state.playlist.next_part_uri = None
        self.write_playlists()
        for state in self.rungs.values():
            for part in state.directory.glob("part_*.m4s"):
                part.unlink()

    def download_parts(self) -> list[Path]:
        """init + media segments of the top fMP4 rung, for download.m4a (gaps have no media)."""
        state = self.rungs[self.ladder.top_rung.name]
        return [state.directory / INIT_NAME, *(state.directory / s.uri for s in state.segments if not s.gap)]

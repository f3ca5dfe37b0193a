"""A live sitting's version directory, filled as FFmpeg's fragments arrive, finished as a VOD version.

Layout (docs/architecture.md §3, same as VOD): ``v{n}/master.m3u8``, ``v{n}/{rung}/index.m3u8``, ``init.mp4``,
``seg_{n}.m4s`` (2 s segments) and, while live, ``part_{n}_{i}.m4s`` (the Low-Latency HLS parts a
segment is made of: the segment file is its parts' bytes end to end). The TS rung has ``seg_{n}.ts``.
Parts are built here from FFmpeg's one-frame fragments: ``part_seconds`` of frames each, or what came
so far when FFmpeg goes quiet (the source delivers whole segments: its last frames are not held back
until the next one arrives).

Time: ``start`` of a segment counts seconds since the sitting began, gaps included, and its
PROGRAM-DATE-TIME is the wall clock at which the source emitted its first sample. A run is one FFmpeg
process; when the source drops and comes back, a new run starts after GAP segments covering the outage
and an ``EXT-X-DISCONTINUITY``. Decode times (tfdt) continue across runs, gaps included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from packager.atomic import write_atomic
from packager.chapters import Chapter, Speaker
from packager.cmaf import Track, build_fragment, fragment_samples, read_track
from packager.ladder import Ladder, Rung
from packager.live_playlist import LiveChapter, LivePart, LivePlaylistState, LiveSegment, live_playlist
from packager.playlists import (
    MASTER_NAME,
    PLAYLIST_NAME,
    MediaSegment,
    Variant,
    ladder_variants,
    master_playlist,
)
from packager.segmenter import INIT_NAME


@dataclass
class _Rung:
    rung: Rung
    directory: Path
    playlist: LivePlaylistState
    track: Track | None = None
    init: bytes = b""
    decode_time: int = 0  # timescale units since the sitting began
    run_decode: int = 0  # decode time at which the current run began: the origin of its part and segment grid
    pending: list[tuple[int, int]] = field(default_factory=list)  # frames not in a part yet
    pending_payload: bytearray = field(default_factory=bytearray)
    open_data: list[bytes] = field(default_factory=list)
    open_duration: float = 0.0
    sequence: int = 1  # mfhd numbers, across the whole sitting
    ts_listed: int = 0  # rows of the current run's CSV already published
    run_start: float = 0.0  # media time at which the current run begins
    run_pdt: datetime | None = None
    run_offset: float = 0.0  # seconds published in the current run
    new_map: str | None = None  # init of this run, when it differs from the previous run's
    discontinuity: bool = False  # the next segment starts a new run after a gap

    @property
    def segments(self) -> list[LiveSegment]:
        return self.playlist.segments

    @property
    def end(self) -> float:
        last = self.segments[-1] if self.segments else None
        return last.start + last.duration if last else 0.0


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
            rung.name: _Rung(
                rung=rung,
                directory=version_dir / rung.name,
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
        self.master_written = False
        self.resumed = False  # rebuilt from an earlier attempt's playlists (packager/live_resume.py)
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
        the new run at the same media time (segment boundaries must match across rungs).
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
        for state in self.rungs.values():
            if state.rung.kind == "ts":
                continue  # mirrors its twin, gaps included
            for i in range(count):
                start = state.end
                duration = edge + (i + 1) * gap / count - start
                number = len(state.segments)
                state.segments.append(
                    LiveSegment(
                        number=number,
                        uri=f"gap_{number}.{'m4s' if state.rung.kind == 'fmp4' else 'ts'}",
                        duration=duration,
                        start=start,
                        pdt=self.starts_at + timedelta(seconds=start),
                        gap=True,
                    )
                )
                if state.track is not None:
                    state.decode_time += round(duration * state.track.timescale)
            state.run_decode = state.decode_time
            state.run_start = state.end
            state.run_pdt = pdt if state.segments else self.starts_at
            state.run_offset = 0.0
            # a new encoder: the TS rung's timestamps restart, and players should reset their decoder
            state.discontinuity = self.run > 1
            state.ts_listed = 0
            state.playlist.next_part_uri = None
        return gap if count else 0.0

    def end_run(self) -> None:
        """The run's FFmpeg has flushed everything: what is left of the open segment becomes a segment."""
        for state in self.rungs.values():
            if state.pending:
                self._emit_part(state, len(state.pending))
            if state.open_data:
                self._close_segment(state)
            state.playlist.next_part_uri = None

    # -- fMP4 fragments → parts and segments ------------------------------------------------------

    def add_fragment(self, name: str, init: bytes, data: bytes) -> bool:
        """One moof+mdat of rung ``name`` (a frame or a few): parts of ``part_seconds`` are cut from the
        frames as they come; returns True when that closed a segment."""
        state = self.rungs[name]
        if init != state.init:
            map_uri = INIT_NAME if not state.init else f"init_{self.run}.mp4"
            write_atomic(state.directory / map_uri, init)
            if state.init:
                state.new_map = map_uri  # earlier segments keep theirs
            state.init = init
            state.track = read_track(init)
        assert state.track is not None
        samples = fragment_samples(data, state.track)
        state.pending += samples.entries
        state.pending_payload += samples.payload
        part_units = round(self.part_seconds * state.track.timescale)
        closed = False
        while True:
            # up to the next boundary of the run's part grid (after a flushed part, less than a part)
            wanted = part_units - (state.decode_time - state.run_decode) % part_units
            total = count = 0
            while count < len(state.pending) and total < wanted:
                total += state.pending[count][0]
                count += 1
            if total < wanted:
                return closed
            closed |= self._emit_part(state, count)

    def flush_part(self, name: str) -> bool:
        """The frames FFmpeg gave so far (it went quiet: a source segment is all in) as a shorter part;
        True when that closed a segment."""
        state = self.rungs[name]
        return self._emit_part(state, len(state.pending)) if state.pending else False

    def _emit_part(self, state: _Rung, count: int) -> bool:
        assert state.track is not None
        entries = state.pending[:count]
        size = sum(length for _, length in entries)
        data = build_fragment(
            entries,
            bytes(state.pending_payload[:size]),
            sequence=state.sequence,
            decode_time=state.decode_time,
        )
        del state.pending[:count]
        del state.pending_payload[:size]
        units = sum(duration for duration, _ in entries)
        state.sequence += 1
        state.decode_time += units
        number = len(state.segments)
        index = len(state.open_data)
        uri = f"part_{number}_{index}.m4s"
        write_atomic(state.directory / uri, data)
        duration = units / state.track.timescale
        state.open_data.append(data)
        state.open_duration += duration
        state.playlist.open_parts.append(LivePart(uri, duration))
        state.playlist.next_part_uri = f"part_{number}_{index + 1}.m4s"
        # segments close on the run's segment grid, whole frames in every rung: boundaries match across
        # rungs whatever parts a flush cut (the frames FFmpeg had given differ between sample rates)
        segment_units = round(self.segment_seconds * state.track.timescale)
        elapsed = state.decode_time - state.run_decode
        if elapsed // segment_units > (elapsed - units) // segment_units:
            self._close_segment(state)
            state.playlist.next_part_uri = f"part_{number + 1}_0.m4s"
            return True
        return False

    def _close_segment(self, state: _Rung) -> None:
        number = len(state.segments)
        uri = f"seg_{number}.m4s"
        write_atomic(state.directory / uri, b"".join(state.open_data))
        self._append(state, uri, state.open_duration, list(state.playlist.open_parts))
        state.open_data = []
        state.open_duration = 0.0
        state.playlist.open_parts = []

    def _append(self, state: _Rung, uri: str, duration: float, parts: list[LivePart]) -> None:
        assert state.run_pdt is not None
        start = state.run_start + state.run_offset
        state.segments.append(
            LiveSegment(
                number=len(state.segments),
                uri=uri,
                duration=duration,
                start=start,
                pdt=state.run_pdt + timedelta(seconds=state.run_offset),
                parts=parts,
                discontinuity=state.discontinuity,
                map_uri=state.new_map,
            )
        )
        state.discontinuity = False
        state.new_map = None
        state.run_offset += duration

    # -- the TS rung: its fMP4 twin's segments, remuxed ---------------------------------------------

    def ts_twins(self) -> dict[str, str]:
        """TS rung name → the fMP4 rung it mirrors."""
        out = {}
        for name, state in self.rungs.items():
            twin = twin_of(state.rung, self.ladder)
            if state.rung.kind == "ts" and twin is not None:
                out[name] = twin.name
        return out

    def ts_pending(self, name: str) -> list[LiveSegment]:
        """The twin's segments this TS rung does not have yet, in order."""
        twin = self.rungs[self.ts_twins()[name]]
        return twin.segments[len(self.rungs[name].segments) :]

    def mirror_ts(self, name: str, twin_segment: LiveSegment) -> None:
        """Append the TS counterpart of ``twin_segment`` (its file, unless a gap, already written)."""
        state = self.rungs[name]
        number = len(state.segments)
        assert number == twin_segment.number
        uri = f"{'gap' if twin_segment.gap else 'seg'}_{number}.ts"
        state.segments.append(replace(twin_segment, uri=uri, parts=[], map_uri=None))

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
        def media(state: _Rung) -> list[MediaSegment]:
            # sizes are read only when measuring (the live master is written with nominal bandwidths)
            if not measured:
                return []
            return [
                MediaSegment(s.uri, s.duration, (state.directory / s.uri).stat().st_size)
                for s in state.segments
                if not s.gap
            ]

        return ladder_variants(
            ((state.rung, media(state)) for state in self.rungs.values()), measured=measured
        )

    def write_master(self) -> None:
        write_atomic(self.directory / MASTER_NAME, master_playlist(self.variants(measured=False)))
        self.master_written = True

    # -- the end: a VOD version --------------------------------------------------------------------

    def vod_chapters(self) -> list[Chapter]:
        """The chapters as VOD stores them: each runs to the next one's start, the last to the end."""
        duration = self.duration
        # as in VOD, every chapter starts on a segment start (live, later boundaries were estimated)
        top = self.rungs[self.ladder.top_rung.name]
        starts = [segment.start for segment in top.segments if not segment.gap]
        kept: list[LiveChapter] = []
        for chapter in self.chapters:
            after = kept[-1].start if kept else -1.0
            start = next((s for s in starts if s >= chapter.start - 1e-6 and s > after + 1e-6), None)
            if start is not None and start < duration:
                kept.append(replace(chapter, start=start))
        out = []
        for i, chapter in enumerate(kept):
            end = kept[i + 1].start if i + 1 < len(kept) else duration
            out.append(
                Chapter(
                    index=i + 1,
                    start=chapter.start,
                    end=max(chapter.start, min(end, duration)),
                    speaker=Speaker(
                        id=chapter.speaker_id, name=chapter.speaker_name, group=chapter.speaker_group
                    ),
                )
            )
        return out

    def finish(self) -> list[Chapter]:
        """ENDLIST playlists (no parts), parts removed; returns the chapters as VOD stores them."""
        chapters = self.vod_chapters()
        self.chapters = [
            LiveChapter(c.index, c.start, c.end, c.speaker.id, c.speaker.name, c.speaker.group)
            for c in chapters
        ]
        for state in self.rungs.values():
            state.playlist.ended = True
            state.playlist.open_parts = []
            state.playlist.next_part_uri = None
        self.write_playlists()
        for state in self.rungs.values():
            for part in state.directory.glob("part_*.m4s"):
                part.unlink()
        return chapters

    def download_parts(self) -> list[Path]:
        """init + media segments of the top fMP4 rung, for download.m4a (gaps have no media)."""
        state = self.rungs[self.ladder.top_rung.name]
        return [state.directory / INIT_NAME, *(state.directory / s.uri for s in state.segments if not s.gap)]


def segment_start_at_or_after(rendition: LiveRendition, seconds: float) -> float:
    """Where a chapter asked for at ``seconds`` starts: the first segment boundary not yet published."""
    edge = rendition.edge
    target = rendition.segment_seconds
    if seconds <= edge:
        return edge
    # a later segment boundary, on the grid segments are being cut on
    return edge + math.ceil((seconds - edge) / target - 1e-9) * target


def twin_of(rung: Rung, ladder: Ladder) -> Rung | None:
    """The fMP4 rung with a TS rung's AAC parameters (its segments become the TS rung's), if any."""
    if rung.kind != "ts":
        return None
    return next((r for r in ladder.fmp4_rungs if r.encoding_key == rung.encoding_key), None)

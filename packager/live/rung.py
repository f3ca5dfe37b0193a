"""One rung of a live version: FFmpeg's one-frame fragments cut into Low-Latency HLS parts and segments.

Parts hold ``part_seconds`` of frames, or what came so far when FFmpeg goes quiet (the source delivers
whole segments: their last frames are not held back until the next one arrives); a segment file is its
parts' bytes end to end. Parts and segments are cut on a grid from the run's start, whole frames in
every rung, so that segment boundaries match across rungs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from packager.atomic import write_atomic
from packager.cmaf import Track, build_fragment, fragment_samples, read_track
from packager.ladder import Rung
from packager.live.playlist import LivePart, LivePlaylistState, LiveSegment
from packager.segmenter import INIT_NAME

PartCallback = Callable[[str, LivePart], None]  # rung name, the part just written
SegmentCallback = Callable[[str, LiveSegment], None]  # rung name, the segment just written


@dataclass
class LiveRung:
    """One rung of a live version: its playlist, and the frames FFmpeg gave cut into parts and segments."""

    rung: Rung
    directory: Path
    playlist: LivePlaylistState
    part_seconds: float
    segment_seconds: float
    track: Track | None = None
    init: bytes = b""
    decode_time: int = 0  # timescale units since the sitting began
    run_decode: int = 0  # decode time at which the current run began: the origin of its part and segment grid
    pending: list[tuple[int, int]] = field(default_factory=list)  # frames not in a part yet
    pending_payload: bytearray = field(default_factory=bytearray)
    open_data: list[bytes] = field(default_factory=list)
    open_duration: float = 0.0
    sequence: int = 1  # mfhd numbers, across the whole sitting
    run_start: float = 0.0  # media time at which the current run begins
    run_pdt: datetime | None = None
    run_offset: float = 0.0  # seconds published in the current run
    new_map: str | None = None  # init of this run, when it differs from the previous run's
    discontinuity: bool = False  # the next segment starts a new run after a gap
    on_part: PartCallback | None = None
    on_segment: SegmentCallback | None = None

    @property
    def segments(self) -> list[LiveSegment]:
        return self.playlist.segments

    @property
    def end(self) -> float:
        last = self.segments[-1] if self.segments else None
        return last.start + last.duration if last else 0.0

    def add_fragment(self, init: bytes, data: bytes, *, run: int) -> bool:
        """One moof+mdat (a frame or a few) of FFmpeg run ``run``: parts of ``part_seconds`` are cut from
        the frames as they come; returns True when that closed a segment."""
        state = self
        if init != state.init:
            map_uri = INIT_NAME if not state.init else f"init_{run}.mp4"
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
            closed |= self._emit_part(count)

    def flush_part(self) -> bool:
        """The frames FFmpeg gave so far as a shorter part; True when that closed a segment."""
        return self._emit_part(len(self.pending)) if self.pending else False

    def end_run(self) -> None:
        """The run's FFmpeg has flushed everything: what is left of the open segment becomes a segment."""
        if self.pending:
            self._emit_part(len(self.pending))
        if self.open_data:
            self._close_segment()
        self.playlist.next_part_uri = None

    def _emit_part(self, count: int) -> bool:
        state = self
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
        part = LivePart(uri, duration)
        state.playlist.open_parts.append(part)
        if self.on_part is not None:
            self.on_part(self.rung.name, part)
        state.playlist.next_part_uri = f"part_{number}_{index + 1}.m4s"
        # segments close on the run's segment grid, whole frames in every rung: boundaries match across
        # rungs whatever parts a flush cut (the frames FFmpeg had given differ between sample rates)
        segment_units = round(self.segment_seconds * state.track.timescale)
        elapsed = state.decode_time - state.run_decode
        if elapsed // segment_units > (elapsed - units) // segment_units:
            self._close_segment()
            state.playlist.next_part_uri = f"part_{number + 1}_0.m4s"
            return True
        return False

    def _close_segment(self) -> None:
        state = self
        number = len(state.segments)
        uri = f"seg_{number}.m4s"
        write_atomic(state.directory / uri, b"".join(state.open_data))
        self._append(uri, state.open_duration, list(state.playlist.open_parts))
        state.open_data = []
        state.open_duration = 0.0
        state.playlist.open_parts = []

    def _append(self, uri: str, duration: float, parts: list[LivePart]) -> None:
        state = self
        assert state.run_pdt is not None
        start = state.run_start + state.run_offset
        segment = LiveSegment(
            number=len(state.segments),
            uri=uri,
            duration=duration,
            start=start,
            pdt=state.run_pdt + timedelta(seconds=state.run_offset),
            parts=parts,
            discontinuity=state.discontinuity,
            map_uri=state.new_map,
        )
        state.segments.append(segment)
        if self.on_segment is not None:
            self.on_segment(self.rung.name, segment)
        state.discontinuity = False
        state.new_map = None
        state.run_offset += duration

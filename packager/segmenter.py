"""Turns what FFmpeg's segment muxer finished into published, immutable HLS segments of one rung.

The muxer appends a line to its CSV list once a segment file is closed. Each listed file is converted
(fMP4: box surgery into a CMAF media segment; TS: as is) and renamed into place, so a segment URI is
either absent or complete.
"""

from __future__ import annotations

from pathlib import Path

from packager.atomic import write_atomic
from packager.cmaf import Track, read_track, split_init, to_media_segment
from packager.encode import SEGMENT_LIST, raw_dir
from packager.ladder import Rung
from packager.mpegts import continue_counters
from packager.playlists import MediaSegment

INIT_NAME = "init.mp4"


class RungOutput:
    """The segments of one rung published so far, in `version_dir/rung.name/`."""

    def __init__(self, rung: Rung, version_dir: Path) -> None:
        self.rung = rung
        self.directory = version_dir / rung.name
        self.raw = version_dir / raw_dir(rung)
        self.segments: list[MediaSegment] = []
        self._track: Track | None = None
        self._decode_time = 0
        self._counters: dict[int, int] = {}  # TS: continuity counters go on from segment to segment
        self._listed_bytes = 0  # how much of the muxer's segment list was read

    def prepare(self) -> None:
        self.raw.mkdir(parents=True, exist_ok=True)

    def next_run(self) -> None:
        """Before another muxer run into this rung (a re-cut recording's next run): its segment list
        starts afresh; the segments, their numbers and the TS counters go on."""
        (self.raw / SEGMENT_LIST).unlink(missing_ok=True)
        self._listed_bytes = 0

    def _new_rows(self) -> list[tuple[str, float, float]]:
        """The list's lines the muxer appended since the last call (it only appends: read from where the
        previous call stopped, not the whole list again on every poll)."""
        try:
            with open(self.raw / SEGMENT_LIST, "rb") as handle:
                handle.seek(self._listed_bytes)
                data = handle.read()
        except FileNotFoundError:
            return []
        # Only whole lines: the muxer may be half way through writing the next one.
        whole = data[: data.rfind(b"\n") + 1]
        self._listed_bytes += len(whole)
        rows = []
        for line in whole.decode("utf-8").splitlines():
            name, start, end = line.strip().rsplit(",", 2)
            rows.append((name, float(start), float(end)))
        return rows

    def collect(self) -> int:
        """Publish every newly finished segment; returns how many were added. Blocking: run in a thread."""
        rows = self._new_rows()
        for name, start, end in rows:
            self._publish(self.raw / name, len(self.segments), end - start)
        return len(rows)

    def _publish(self, source: Path, number: int, listed_duration: float) -> None:
        if self.rung.kind == "ts":
            target = self.directory / f"seg_{number}.ts"
            write_atomic(target, continue_counters(source.read_bytes(), self._counters))
            source.unlink()
            self.segments.append(MediaSegment(target.name, listed_duration, target.stat().st_size))
            return
        data = source.read_bytes()
        if self._track is None:
            init = split_init(data)
            write_atomic(self.directory / INIT_NAME, init)
            self._track = read_track(init)
        fragment = to_media_segment(data, self._track, self._decode_time, sequence=number + 1)
        self._decode_time += fragment.duration
        target = self.directory / f"seg_{number}.m4s"
        write_atomic(target, fragment.data)
        source.unlink()
        self.segments.append(
            MediaSegment(target.name, fragment.duration / self._track.timescale, len(fragment.data))
        )

    def files(self) -> list[Path]:
        """init + media segments, in order (download.m4a is made of them)."""
        return [self.directory / INIT_NAME, *(self.directory / segment.uri for segment in self.segments)]

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)

    def starts(self) -> list[float]:
        """Start time of each segment, from the sum of the ones before it."""
        starts, total = [], 0.0
        for segment in self.segments:
            starts.append(total)
            total += segment.duration
        return starts

    def cleanup(self) -> None:
        for leftover in self.raw.glob("*"):
            leftover.unlink()
        if self.raw.exists():
            self.raw.rmdir()

"""A live rung's directory as the worker leaves it, written step by step by a test: each part renamed into
place, then the playlist (the packager's own writer) naming it and hinting the next one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from packager.atomic import write_atomic
from packager.live.playlist import LivePart, LivePlaylistState, LiveSegment, live_playlist
from packager.playlists import PLAYLIST_NAME

PARTS_PER_SEGMENT = 2
PART_SECONDS = 0.5


class FakeLiveRung:
    """``{debate}/v1/a64/`` under ``root``: 1 s segments of two 0.5 s parts (target duration 1 s)."""

    def __init__(self, root: Path, debate: str = "fakelive", segments: int = 0) -> None:
        """``segments`` complete segments are listed from the start (a long sitting)."""
        self.relative = f"{debate}/v1/a64"
        self.directory = root / self.relative
        self.directory.mkdir(parents=True)
        write_atomic(self.directory / "init.mp4", b"init")
        self.state = LivePlaylistState(
            kind="fmp4",
            init_uri="init.mp4",
            segment_target=PARTS_PER_SEGMENT * PART_SECONDS,
            part_target=PART_SECONDS,
            starts_at=datetime(2026, 1, 1, tzinfo=UTC),
            next_part_uri="part_0_0.m4s",
        )
        self.open_data: list[bytes] = []
        for number in range(segments):
            self.state.segments.append(self._segment(number, []))
        self.state.next_part_uri = f"part_{segments}_0.m4s"
        self._write_playlist()

    def path(self, name: str) -> str:
        """The URL path of one of the rung's files."""
        return f"/hls/{self.relative}/{name}"

    @property
    def hint(self) -> str:
        assert self.state.next_part_uri is not None
        return self.state.next_part_uri

    def add_part(self) -> bytes:
        """Publish the hinted part (and the segment it completes); its bytes."""
        number, index = len(self.state.segments), len(self.state.open_parts)
        data = f"part {number} {index} ".encode() + os.urandom(600)
        write_atomic(self.directory / self.hint, data)
        self.state.open_parts.append(LivePart(self.hint, PART_SECONDS))
        self.open_data.append(data)
        self.state.next_part_uri = f"part_{number}_{index + 1}.m4s"
        if len(self.state.open_parts) == PARTS_PER_SEGMENT:
            write_atomic(self.directory / f"seg_{number}.m4s", b"".join(self.open_data))
            self.state.segments.append(self._segment(number, self.state.open_parts))
            self.state.open_parts, self.open_data = [], []
            self.state.next_part_uri = f"part_{number + 1}_0.m4s"
        self._write_playlist()
        return data

    def _segment(self, number: int, parts: list[LivePart]) -> LiveSegment:
        return LiveSegment(
            number=number,
            uri=f"seg_{number}.m4s",
            duration=PARTS_PER_SEGMENT * PART_SECONDS,
            start=number * PARTS_PER_SEGMENT * PART_SECONDS,
            pdt=self.state.starts_at + timedelta(seconds=number * PARTS_PER_SEGMENT * PART_SECONDS),
            parts=parts,
        )

    def end(self) -> None:
        self.state.ended = True
        self.state.next_part_uri = None
        self._write_playlist()

    def _write_playlist(self) -> None:
        write_atomic(self.directory / PLAYLIST_NAME, live_playlist(self.state, []))

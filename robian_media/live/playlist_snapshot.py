"""One version of a live playlist as the LL-HLS routes need it, read and parsed once (in a thread)
however many requests read it: an 8-hour EVENT playlist is 14 400 segments, 13 ms a parse, so
parsing per request (or per waiter per change) would make the event loop's work grow as
waiters × playlist size."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

from packager.live.reload import PlaylistPosition, playlist_position, skip_segments

HINT_TAG = "\n#EXT-X-PRELOAD-HINT:"
HINT = re.compile(r'TYPE=PART,URI="part_(\d+)_(\d+)\.m4s"$')

Signature = tuple[int, int, int]  # inode, size, mtime: the worker renames each new playlist into place


def preload_hint(text: str) -> tuple[int, int] | None:
    """(segment, part) of the hinted part, if the playlist hints one."""
    # the last lines: found from the end, not by a multi-line search through the whole playlist
    start = text.rfind(HINT_TAG)
    if start < 0:
        return None
    end = text.find("\n", start + 1)
    found = HINT.match(text[start + len(HINT_TAG) : end if end >= 0 else len(text)])
    return (int(found[1]), int(found[2])) if found else None


@dataclass(eq=False)
class Snapshot:
    signature: Signature
    body: bytes  # the playlist as served
    position: PlaylistPosition
    hint: tuple[int, int] | None
    _delta: asyncio.Task[bytes] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path, signature: Signature) -> Snapshot:
        """Blocking: read and parse (run it in a thread)."""
        return cls.parse(path.read_bytes(), signature)

    @classmethod
    def parse(cls, body: bytes, signature: Signature) -> Snapshot:
        """Blocking: parse (run it in a thread)."""
        text = body.decode("utf-8")
        return cls(signature, body, playlist_position(text), preload_hint(text))

    async def delta(self) -> bytes:
        """The delta update (``_HLS_skip``), made once in a thread for every request of this version."""
        if self._delta is None:
            self._delta = asyncio.create_task(asyncio.to_thread(_delta_of, self.body))
        return await asyncio.shield(self._delta)


def _delta_of(body: bytes) -> bytes:
    return skip_segments(body.decode("utf-8")).encode("utf-8")

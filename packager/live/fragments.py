"""FFmpeg's fragments as they come out of a live run: cut into parts (packager/live/rung.py), playlists
rewritten when what they list changed, and a source segment's last frames published as soon as FFmpeg
goes quiet rather than with the next segment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from packager.ladder import Rung
from packager.live.rendition import LiveRendition

# FFmpeg writes a source segment's frames within milliseconds; this long without one, it is all in
FLUSH_QUIET = 0.1


class FragmentPublisher:
    """Takes the fragments of one rendition; ``on_segment_closed`` when a segment closed in a rung,
    ``after_fragment`` (awaited) after each fragment."""

    def __init__(
        self,
        rendition: LiveRendition,
        *,
        on_segment_closed: Callable[[], None],
        after_fragment: Callable[[], Awaitable[None]],
    ) -> None:
        self.rendition = rendition
        self.on_segment_closed = on_segment_closed
        self.after_fragment = after_fragment
        self._flushes: dict[str, asyncio.TimerHandle] = {}
        self._listed: dict[str, list[object]] = {}  # open parts as last written, per rung

    async def fragment(self, rung: Rung, init: bytes, data: bytes) -> None:
        rendition = self.rendition
        closed = rendition.add_fragment(rung.name, init, data)
        if closed or rendition.rungs[rung.name].playlist.open_parts != self._listed.get(rung.name):
            self._write(rung.name)
        if closed:
            self.on_segment_closed()
        # FFmpeg quiet for a moment: the source segment is all encoded, publish its last frames now
        previous = self._flushes.get(rung.name)
        if previous is not None:
            previous.cancel()
        self._flushes[rung.name] = asyncio.get_running_loop().call_later(FLUSH_QUIET, self._flush, rung.name)
        await self.after_fragment()

    def cancel_flushes(self) -> None:
        for handle in self._flushes.values():
            handle.cancel()
        self._flushes.clear()

    def _flush(self, name: str) -> None:
        self._flushes.pop(name, None)
        if name not in self.rendition.rungs:
            return
        closed = self.rendition.flush_part(name)
        self._write(name)
        if closed:
            self.on_segment_closed()

    def _write(self, name: str) -> None:
        self.rendition.write_playlist(name)
        self._listed[name] = list(self.rendition.rungs[name].playlist.open_parts)

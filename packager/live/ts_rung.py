"""The MPEG-TS rung of a live recording: its fMP4 twin's segments remuxed (no second encode), as in VOD
where it rides on the same encoding. Its playlist lags the twin's by that remux."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from packager.atomic import write_atomic
from packager.live.encoder import remux_to_ts
from packager.live.playlist import LiveSegment
from packager.live.rendition import LiveRendition, twin_of
from packager.mpegts import continue_counters, last_counters

log = logging.getLogger(__name__)


def ts_twins(rendition: LiveRendition) -> dict[str, str]:
    """TS rung name → the fMP4 rung it mirrors."""
    out = {}
    for name, state in rendition.rungs.items():
        twin = twin_of(state.rung, rendition.ladder)
        if state.rung.kind == "ts" and twin is not None:
            out[name] = twin.name
    return out


def ts_pending(rendition: LiveRendition, name: str) -> list[LiveSegment]:
    """The twin's segments this TS rung does not have yet, in order."""
    twin = rendition.rungs[ts_twins(rendition)[name]]
    return twin.segments[len(rendition.rungs[name].segments) :]


def mirror_ts(rendition: LiveRendition, name: str, twin_segment: LiveSegment) -> None:
    """Append the TS counterpart of ``twin_segment`` (its file, unless a gap, already written)."""
    state = rendition.rungs[name]
    number = len(state.segments)
    assert number == twin_segment.number
    uri = f"{'gap' if twin_segment.gap else 'seg'}_{number}.ts"
    segment = replace(twin_segment, uri=uri, parts=[], map_uri=None)
    state.segments.append(segment)
    if state.on_segment is not None and not segment.gap:
        state.on_segment(name, segment)


class TsRemuxer:
    """A task that remuxes the twins' new segments whenever :meth:`wanted` says one closed."""

    def __init__(self, ffmpeg: str, *, on_mirrored: Callable[[], Awaitable[None]]) -> None:
        self.ffmpeg = ffmpeg
        self.on_mirrored = on_mirrored
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._counters: dict[str, dict[int, int]] = {}  # per TS rung: continuity counters so far

    def start(self, rendition: LiveRendition) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(rendition), name="live TS remuxer")

    def wanted(self) -> None:
        self._wanted.set()

    def raise_failure(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        # re-raises only our own cancellation; the catch-up that follows retries a remux that failed
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
        if isinstance(outcome, Exception):
            log.warning("live TS remuxer failed", exc_info=outcome)

    async def _loop(self, rendition: LiveRendition) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self.catch_up(rendition)

    def _continue_counters(self, rendition: LiveRendition, name: str, target: Path) -> None:
        """The new segment's continuity counters following the previous segment's (read back from it
        after a resume), so that a player meets no discontinuity between segments."""
        counters = self._counters.get(name)
        if counters is None:
            counters = self._counters[name] = {}
            previous = [s for s in rendition.rungs[name].segments if not s.gap]
            if previous and (rendition.rungs[name].directory / previous[-1].uri).is_file():
                counters.update(
                    last_counters((rendition.rungs[name].directory / previous[-1].uri).read_bytes())
                )
        write_atomic(target, continue_counters(target.read_bytes(), counters))

    async def catch_up(self, rendition: LiveRendition) -> None:
        """Remux the fMP4 twins' new segments into the TS rungs, playlists rewritten."""
        for name, twin in ts_twins(rendition).items():
            pending = ts_pending(rendition, name)
            for segment in pending:
                if not segment.gap:
                    target = rendition.rungs[name].directory / f"seg_{segment.number}.ts"
                    media = await asyncio.to_thread(
                        (rendition.rungs[twin].directory / segment.uri).read_bytes
                    )
                    await remux_to_ts(self.ffmpeg, rendition.rungs[twin].init, media, target)
                    await asyncio.to_thread(self._continue_counters, rendition, name, target)
                mirror_ts(rendition, name, segment)
            if pending:
                rendition.write_playlist(name)
                await self.on_mirrored()

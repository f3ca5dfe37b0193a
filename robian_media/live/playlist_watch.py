"""Waiting for a live playlist to change, for LL-HLS blocking reloads.

The worker writing the playlist may be another process on another machine sharing the media
root, so the API learns of a new part by watching the file: one poller per playlist that has
waiters (``stat`` every ``interval``, re-read when the inode, size or mtime changed; the worker
renames a new file into place), however many players wait on it. The added latency is at most
``interval`` (measured in bench/live_edge_bench.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from ..web import keys
from .hinted_parts import HintedParts
from .keys import PLAYLIST_WATCH

DEFAULT_INTERVAL = 0.02


class _Watch:
    def __init__(self, path: Path, interval: float) -> None:
        self.path = path
        self.interval = interval
        self.signature: tuple[int, int, int] | None = None
        self.text = ""
        self.waiters = 0
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def refresh(self) -> bool:
        """Re-read the file if it changed; True when it did."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return False
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if signature == self.signature:
            return False
        try:
            self.text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        self.signature = signature
        return True

    async def poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.refresh():
                changed, self.changed = self.changed, asyncio.Event()
                changed.set()


class PlaylistWatch:
    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        self.interval = interval
        self._watches: dict[Path, _Watch] = {}

    async def read_when(self, path: Path, ready: Callable[[str], bool], within: float) -> str | None:
        """The playlist's text once ``ready(text)``; None if that did not happen ``within`` seconds."""
        watch = self._watches.get(path)
        if watch is None:
            watch = self._watches[path] = _Watch(path, self.interval)
        watch.waiters += 1
        try:
            if watch.task is None:
                watch.refresh()
                watch.task = asyncio.create_task(watch.poll(), name=f"playlist watch {path.name}")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + within
            while not ready(watch.text):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.changed.wait(), remaining)
            return watch.text
        finally:
            watch.waiters -= 1
            if watch.waiters == 0:
                self._watches.pop(path, None)
                if watch.task is not None:
                    watch.task.cancel()

    async def close(self) -> None:
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        self._watches.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def playlist_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    watch = PlaylistWatch()
    app[PLAYLIST_WATCH] = watch
    app[keys.WAIT_FOR_MEDIA] = HintedParts(watch, app[keys.SETTINGS].live_part_waiters).wait
    try:
        yield
    finally:
        await watch.close()

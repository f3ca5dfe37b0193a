"""Live playlists for the LL-HLS routes: read once per change, and waited on for blocking reloads.

The worker writing the playlist may be another process on another machine sharing the media
root, so the API learns of a new part by watching the file: one poller per playlist that has
waiters (``stat`` every ``interval``; the worker renames a new file into place, so a changed inode,
size or mtime is a new version), however many players wait on it. Each version is read and parsed
once, in a thread (:class:`~.playlist_snapshot.Snapshot`), and every request and waiter is answered
from it: a waiter's check is a comparison of numbers. The added latency is at most ``interval``
(measured in bench/live_edge_bench.py); the cost under many players in bench/ll_hls_load_bench.py.
With the s3 store the playlists are objects and a change is an event (``live/store_watch.py``); a
watch is keyed by what names a playlist there (:meth:`PlaylistWatch.locate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any

from aiohttp import web

from ..media.serving import resolve_media_path
from ..web import keys
from ..web.client_slots import ClientSlots
from .hinted_parts import HintedParts
from .keys import PLAYLIST_WATCH, RELOAD_SLOTS
from .playlist_snapshot import Signature, Snapshot

DEFAULT_INTERVAL = 0.02
# playlists whose last version stays parsed without waiters (live rungs of the sittings being followed)
CACHED_PLAYLISTS = 32


class _Watch:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.waiters = 0
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None


class PlaylistWatch:
    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        self.interval = interval
        self._watches: dict[Hashable, _Watch] = {}
        self._cache: OrderedDict[Path, Snapshot] = OrderedDict()
        self._loading: dict[tuple[Path, Signature], asyncio.Task[Snapshot]] = {}

    def locate(self, root: Path, relative: str) -> Hashable:
        """What names the playlist at ``relative`` (a safe path of the layout) for this watch; NotFound
        when it cannot be one."""
        return resolve_media_path(root, relative)

    def written(self, root: Path, relative: str) -> bool:
        """Something is at ``relative`` (a live part's name) where players read it: a file, or what the
        caller's ``resolve_media_path`` then refuses (a symlink)."""
        return (root / relative).is_file()

    @contextlib.asynccontextmanager
    async def _changes(self, path: Any) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """While watched: each call returns once the playlist may have changed (here: a poll period)."""
        yield lambda: asyncio.sleep(self.interval)

    async def snapshot(self, path: Any) -> Snapshot:
        """The playlist now (as of the last poll, while it has waiters); FileNotFoundError if gone."""
        watch = self._watches.get(path)
        if watch is not None:
            return watch.snapshot
        return await self._current(path)

    async def _current(self, path: Path) -> Snapshot:
        stat = os.stat(path)
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached.signature == signature:
            self._cache.move_to_end(path)
            return cached
        # many requests right after a change share one read
        loading = self._loading.get((path, signature))
        if loading is None:
            loading = asyncio.create_task(asyncio.to_thread(Snapshot.load, path, signature))
            self._loading[(path, signature)] = loading
            loading.add_done_callback(lambda _: self._loading.pop((path, signature), None))
        snapshot = await asyncio.shield(loading)
        if (newest := self._cache.get(path)) is None or newest.signature != snapshot.signature:
            self._cache[path] = snapshot
            self._cache.move_to_end(path)
            while len(self._cache) > CACHED_PLAYLISTS:
                self._cache.popitem(last=False)
        return snapshot

    async def _poll(self, path: Any, watch: _Watch) -> None:
        async with self._changes(path) as changes:
            while True:
                await changes()
                try:
                    snapshot = await self._current(path)
                except (OSError, ValueError):  # gone, or caught half-written by a non-atomic writer
                    continue
                if snapshot is not watch.snapshot:
                    watch.snapshot = snapshot
                    changed, watch.changed = watch.changed, asyncio.Event()
                    changed.set()

    async def wait_for(self, path: Any, ready: Callable[[Snapshot], bool], within: float) -> Snapshot | None:
        """The playlist once ``ready(snapshot)``; None if that did not happen ``within`` seconds."""
        watch = self._watches.get(path)
        if watch is None:
            snapshot = await self._current(path)
            watch = self._watches.get(path)  # another waiter may have started one meanwhile
            if watch is None:
                watch = self._watches[path] = _Watch(snapshot)
                watch.task = asyncio.create_task(self._poll(path, watch), name=f"playlist watch {path}")
        watch.waiters += 1
        try:
            async with asyncio.timeout(within):
                while not ready(watch.snapshot):
                    await watch.changed.wait()
            return watch.snapshot
        except TimeoutError:
            return None
        finally:
            watch.waiters -= 1
            if watch.waiters == 0:
                if self._watches.get(path) is watch:
                    del self._watches[path]
                if watch.task is not None:
                    watch.task.cancel()

    async def close(self) -> None:
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        self._watches.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def playlist_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = app[keys.MEDIA_STORE]
    watch = PlaylistWatch()
    if not store.serves_packager_files:
        from ..media.s3_store import S3MediaStore
        from .store_watch import StorePlaylistWatch

        assert isinstance(store, S3MediaStore)
        watch = StorePlaylistWatch(store, app[keys.EVENT_BUS])
    app[PLAYLIST_WATCH] = watch
    app[RELOAD_SLOTS] = ClientSlots(
        settings.live_reload_waiters, settings.live_waiters_per_client, "live playlist reloads waiting"
    )
    parts = ClientSlots(
        settings.live_part_waiters, settings.live_waiters_per_client, "requests for live parts waiting"
    )
    app[keys.WAIT_FOR_MEDIA] = HintedParts(watch, parts).wait
    try:
        yield
    finally:
        await watch.close()

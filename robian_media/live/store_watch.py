"""Live playlists with the s3 store: the worker recording a sitting is on another machine, its playlists
are objects in the bucket, and it says when they change.

The worker puts each new part, then the playlists naming it, then publishes ``live.parts`` on the
sitting's internal channel ``parts:{id}`` (``live/session.py``). A watched playlist is read again from
the store when an event names it (or every :data:`FALLBACK_SECONDS`, should events be lost), parsed
once per version for every waiter (:class:`~.playlist_watch.PlaylistWatch`). A part the playlist lists
or went past is in the store: the hinted-part wait needs no look at the bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from ..events.bus import EventBus
from ..events.hub import SubscriptionClosed
from ..media.s3_store import S3MediaStore
from ..media.store import safe_key
from ..web.errors import NotFound
from .playlist_snapshot import Snapshot
from .playlist_watch import DEFAULT_INTERVAL, PlaylistWatch

# a watched playlist is read again this often even without an event (a bus outage, a lost event)
FALLBACK_SECONDS = 1.0


class StorePlaylistWatch(PlaylistWatch):
    def __init__(self, store: S3MediaStore, bus: EventBus) -> None:
        super().__init__(DEFAULT_INTERVAL)
        self.store = store
        self.bus = bus
        self._last: dict[str, Snapshot] = {}
        self._reading: dict[str, asyncio.Task[Snapshot]] = {}

    def locate(self, root: Path, relative: str) -> str:
        if not safe_key(relative):
            raise NotFound("No media at this path.")
        return relative

    def written(self, root: Path, relative: str) -> bool:
        return False  # known from the playlist: a part it lists (or went past) is in the store

    async def _current(self, path: Any) -> Snapshot:
        key = str(path)
        # requests arriving together (a change woke every waiter) share one read
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = asyncio.create_task(self._read(key))
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(reading)

    async def _read(self, key: str) -> Snapshot:
        body = await self.store.read(key)
        if body is None:
            self._last.pop(key, None)
            raise FileNotFoundError(key)
        digest = hashlib.blake2b(body, digest_size=8).digest()
        signature = (0, len(body), int.from_bytes(digest))
        last = self._last.get(key)
        if last is not None and last.signature == signature:
            return last
        snapshot = await asyncio.to_thread(Snapshot.parse, body, signature)
        if len(self._last) > 64:  # the playlists followed lately, not every one ever read
            self._last.clear()
        self._last[key] = snapshot
        return snapshot

    @contextlib.asynccontextmanager
    async def _changes(self, path: Any) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        key = str(path)
        debate_id = key.split("/", 1)[0]
        with self.bus.subscribe([f"parts:{debate_id}"]) as subscription:
            subscribed = [False]

            async def changed() -> None:
                if not subscribed[0]:  # a change between the first read and the subscription
                    subscribed[0] = True
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FALLBACK_SECONDS):
                        while True:
                            try:
                                event = await subscription.get()
                            except SubscriptionClosed:  # overflowed or closing: read on the fallback
                                await asyncio.sleep(FALLBACK_SECONDS)
                                return
                            if key in event.data.get("playlists", ()):
                                return

            yield changed

"""Progressive playback with the s3 store (docs/media-store.md): the version a worker packages goes up
as it grows, so players start on it before it is published.

Every ``FOLLOW_SECONDS`` the packager's scratch directory is read — the version master, the rung
playlists it names, the segments and init files they name — and what is new goes up in the order a
player reads backwards: segments (immutable: never rewritten), then the growing playlists and master
(short max-age: they change), then, once and only when the debate has nothing published, the top
master. A playlist names only finished segments, and goes up after them: whatever a player reads
resolves. The final publish (``S3MediaStore.publish_version``) skips the segments already up and puts
the finished playlists and masters over the growing ones, immutable.

A live recording (``on_synced`` given) is followed part by part: the recorder pokes the upload at
each part and segment it writes, the parts go up, then the playlists naming them, then ``on_synced``
tells the API nodes which playlists changed (their blocking reloads answer from the store). Its top
master points at it whatever an earlier attempt left there; the recording an earlier attempt left, when
it is resumed (``media/s3_resume.py``), is followed on: its media is up already, the top master on it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packager.playlists import MASTER_NAME, Variant, playlist_uris
from packager.versions import LAST_VERSION

from ..ops.background import start_task
from .store import MediaStoreError, OnPlayable, OnSynced, Publication

if TYPE_CHECKING:
    from .s3_resume import LeftRecording
    from .s3_store import S3MediaStore

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a player could read of a growing version: files named by its playlists (finished, never
    rewritten), then playlists and data in the order they go up (``.json``/``.vtt`` before the master
    that names them)."""

    media: list[str]
    texts: list[tuple[str, bytes]]


def read_snapshot(version_dir: Path) -> Snapshot | None:
    """Blocking; None until the packager wrote the version master (every rung has a segment)."""
    try:
        master = (version_dir / MASTER_NAME).read_bytes()
        media: list[str] = []
        data: list[tuple[str, bytes]] = []
        playlists: list[tuple[str, bytes]] = []
        for uri in playlist_uris(master.decode("utf-8")):
            body = (version_dir / uri).read_bytes()
            if not uri.endswith(".m3u8"):
                data.append((uri, body))
                continue
            playlists.append((uri, body))
            base = uri.rsplit("/", 1)[0] + "/" if "/" in uri else ""
            media.extend(base + name for name in playlist_uris(body.decode("utf-8")))
    except FileNotFoundError:
        return None  # not there yet, or the packager gave up and removed the directory
    return Snapshot(media, [*data, *playlists, (MASTER_NAME, master)])


class FollowedVersion:
    """A VersionUpload of the s3 store (``S3MediaStore.start_version``)."""

    def __init__(
        self,
        store: S3MediaStore,
        debate_id: str,
        debate_dir: Path,
        previous_master: bytes | None,
        on_playable: OnPlayable,
        on_synced: OnSynced | None = None,
        *,
        resumed: LeftRecording | None = None,
    ) -> None:
        self._store = store
        self._debate_id = debate_id
        self._debate_dir = debate_dir
        self._previous = previous_master
        self._on_playable = on_playable
        self._on_synced = on_synced
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._version: int | None = None
        self._uploaded: set[str] = set()  # keys of finished objects already in the store
        self._growing: dict[str, bytes] = {}  # keys of growing objects → what the store holds
        self._pointed = False  # the top master may point at this version
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resumed = None if resumed is None else resumed.version
        if resumed is not None:  # an earlier attempt's recording: its media is up, the top master on it
            self._version = resumed.version
            self._uploaded.update(resumed.media)
            self._pointed = True

    def _key(self, relative: str) -> str:
        return f"{self._debate_id}/v{self._version}/{relative}"

    def poke(self) -> None:
        """Something new was written (a live part): sync now rather than at the next tick. Any thread."""
        self._loop.call_soon_threadsafe(self._wake.set)

    def playable(self, version: int, variants: list[Variant]) -> None:
        if self._task is None:
            self._version = version
            self._task = start_task(self._follow(version, variants), f"upload {self._debate_id} v{version}")

    async def _follow(self, version: int, variants: list[Variant]) -> None:
        try:
            # first: a later attempt never hands out this number again, even once these objects are gone
            await self._store.put(f"{self._debate_id}/{LAST_VERSION}", f"{version}\n".encode())
            # once the packager finished, the publish puts the rest: no upload of its final files here
            while not self._stopping.is_set():
                self._wake.clear()
                changed = await self._sync()
                master = self._growing.get(self._key(MASTER_NAME))
                point = self._previous is None or self._on_synced is not None
                if point and not self._pointed and master is not None:
                    self._pointed = True  # before the PUT: it may land even if it reports a failure
                    await self._store.point_master(self._debate_id, version, master)
                    self._on_playable(version, variants)
                if changed and self._on_synced is not None:
                    await self._on_synced(changed)
                await self._next_tick()
        except (MediaStoreError, OSError) as exc:
            # players wait for the publish, which puts everything (or fails the attempt) itself
            log.warning("progressive upload stopped", extra={"debate_id": self._debate_id, "error": str(exc)})

    async def _next_tick(self) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait([stopping, woken], timeout=FOLLOW_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()

    async def _sync(self) -> list[str]:
        """Put what is new; returns the keys of the playlists that changed."""
        directory = self._debate_dir / f"v{self._version}"
        snapshot = await asyncio.to_thread(read_snapshot, directory)
        if snapshot is None:
            return []
        new = [(self._key(name), directory / name) for name in dict.fromkeys(snapshot.media)]
        # not a live playlist's preload hint (the part to come) nor a gap's name: no file behind them
        new = [(key, path) for key, path in new if key not in self._uploaded and path.is_file()]
        await self._store.put_all(new)
        self._uploaded.update(key for key, _ in new)
        changed = []
        for name, body in snapshot.texts:
            key = self._key(name)
            if self._growing.get(key) != body:
                await self._store.put(key, body, growing=True)
                self._growing[key] = body
                changed.append(key)
        return changed

    @property
    def resumed(self) -> int | None:
        """The version an earlier attempt left in the store, fetched to go on with (its media stays up)."""
        return self._resumed

    async def fetch(self, files: list[Path]) -> None:
        """Files of the version the packager reads that are in the store only (an earlier attempt's)."""
        relative = [path.relative_to(self._debate_dir).as_posix() for path in files]
        await self._store.get_all(
            [(f"{self._debate_id}/{name}", path) for name, path in zip(relative, files, strict=True)]
        )

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.wait([self._task])

    async def publish(self, version: int, version_dir: Path) -> Publication:
        await self.stop()
        return await self._store.publish_version(
            Publication(self._debate_id, version, self._previous),
            version_dir,
            uploaded=self._uploaded if version == self._version else set(),
            pointed=self._pointed,
        )

    async def discard(self) -> None:
        await self.stop()
        if self._version is not None:
            await self._store.take_back(
                Publication(self._debate_id, self._version, self._previous), pointed=self._pointed
            )

"""Where published media lives (``ROBIAN_MEDIA_STORE``, docs/media-store.md): the media root on a disk
(``file``, :class:`FileMediaStore`) or an S3-compatible bucket (``s3://…``, ``media/s3_store.py``).

The packager always writes a version into a directory (``debate_dir``); the store says which one (the
media root itself, or a per-attempt scratch directory). ``start_version`` follows the version the
packager writes there (:class:`VersionUpload`: players may start on it before it is finished), whose
``publish`` makes it what players get once it is finished; ``withdraw`` takes that back when the job
may not publish it after all.
``/hls/`` and downloads answer from the media root for the file store, from ``respond`` otherwise.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiohttp import web

from packager.atomic import write_atomic
from packager.playlists import Variant
from packager.versions import DebateBusyError, recover, withdraw_live

from ..settings import Settings

SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# the packager's on_playable: (version, nominal variants), once every rung of the version has a segment
OnPlayable = Callable[[int, list[Variant]], None]
# a live recording's playlists that changed (keys in the store), once every part they name is there
OnSynced = Callable[[list[str]], Awaitable[None]]


class MediaStoreError(Exception):
    """The store did not take or give an object (down, refusing, out of retries). The message names the
    operation and the key, never a credential."""


@dataclass(frozen=True, slots=True)
class Publication:
    """A version made current by ``publish``: enough to take it back."""

    debate_id: str
    version: int
    # the top master before the switch (None: there was none), put back by ``withdraw``
    previous_master: bytes | None = None


async def gather_all(operations: Iterable[Awaitable[object]]) -> None:
    """Run ``operations`` at once; each ends (or fails) before this returns — nothing is left writing
    behind a cleanup — then the first failure is raised."""
    outcomes = await asyncio.gather(*operations, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def safe_key(relative: str) -> bool:
    """A path of our layout: no dotfiles, no ``..``, no empty parts."""
    return bool(relative) and all(SAFE_PART.match(part) for part in relative.split("/"))


class VersionUpload(Protocol):
    """The version a packager is writing, on its way to the players (``MediaStore.start_version``)."""

    def playable(self, version: int, variants: list[Variant]) -> None:
        """The packager's ``on_playable``; the store calls its own ``on_playable`` once players can start
        on the version (nothing published yet, its first segments where players read them)."""
        ...

    def poke(self) -> None:
        """The packager wrote something players want at once (a live part); callable from any thread."""
        ...

    @property
    def resumed(self) -> int | None:
        """The live version an earlier attempt left in the store, fetched to go on with (``start_version``
        with ``resume``), or None."""
        ...

    async def fetch(self, files: list[Path]) -> None:
        """``files`` of the version that only the store holds (a resumed recording's earlier segments)
        into their places, for the packager to read them again."""
        ...

    async def stop(self) -> None:
        """The packager finished: stop following it (before ``publish``)."""
        ...

    async def publish(self, version: int, version_dir: Path) -> Publication:
        """v{version}, complete in ``version_dir``, becomes the debate's current version. Raises
        MediaStoreError with the previous version still current."""
        ...

    async def discard(self) -> None:
        """The packaging failed or was cancelled: what players could see of it is taken back, the
        previous version current again (best effort, never a master pointing at missing objects)."""
        ...


class MediaStore(Protocol):
    # players read the files the packager is writing: progressive playback and live sittings work
    serves_packager_files: bool

    def debate_dir(self, debate_id: str, scratch: Path) -> Path:
        """The directory the packager writes this debate's versions into (``scratch``: this attempt's own)."""
        ...

    async def start_version(
        self,
        debate_id: str,
        debate_dir: Path,
        on_playable: OnPlayable,
        on_synced: OnSynced | None = None,
        *,
        resume: bool = False,
    ) -> VersionUpload:
        """Before packaging into ``debate_dir``: version numbers already handed out for this debate are
        never reused; the returned upload follows the version the packager writes (``on_synced``: a
        live recording, followed part by part, the top master pointing at it from its first segment).
        ``resume``: a live recording an earlier attempt left (the top master on it, not ended) is brought
        into ``debate_dir`` for the recorder to go on with it (``resumed``)."""
        ...

    async def fetch_current(self, debate_id: str, debate_dir: Path) -> None:
        """Make ``debate_dir`` hold the debate's current version as the packager reads it (the top
        master and its ``v{n}/``), to make the next version from it (packager/recut.py): the media
        root already does; the s3 store downloads it into the scratch directory."""
        ...

    async def withdraw(self, publication: Publication) -> None:
        """The job may not publish after all: the previous version is current again, the new one gone."""
        ...

    async def remove_unpublished(self, debate_id: str, published: int | None) -> list[int]:
        """Remove what jobs left of versions numbered after ``published`` (the debate's current version,
        None: none), a top master pointing at one put back on ``published``; returns their numbers. For a
        job cancelled after an attempt whose worker died (nothing else removes it), called while no job
        of the debate runs (the queue's debate lock)."""
        ...

    async def respond(
        self, request: web.Request, key: str, headers: Mapping[str, str]
    ) -> web.StreamResponse | None:
        """``key`` (a safe path of the layout) with Range support and ``headers``; None: not this store's
        business (the file store: the caller serves the media root)."""
        ...

    async def size(self, key: str) -> int | None:
        """Bytes of the object at ``key`` (a safe path of the layout), None if there is none."""
        ...

    async def read(self, key: str) -> bytes | None:
        """The object at ``key``, None if there is none (MediaStoreError: the store did not answer)."""
        ...

    async def put(self, key: str, data: Path | bytes) -> None:
        """``key`` holds ``data`` (a file's bytes) from now on, whole or not at all."""
        ...

    async def check(self) -> str | None:
        """Readiness: where the store is, once it answered (MediaStoreError if not); None: nothing to
        check beyond the media root's disk."""
        ...

    async def close(self) -> None: ...


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _file_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _remove_unpublished(debate_dir: Path) -> list[int]:
    """The versions no packager will finish: incomplete ones and live recordings."""
    try:
        return recover(debate_dir) + withdraw_live(debate_dir)
    except DebateBusyError:
        return []  # a packager holds the debate: its job publishes or withdraws what is there


def _put_file(path: Path, data: Path | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data.read_bytes() if isinstance(data, Path) else data)


@dataclass(frozen=True, slots=True)
class InPlaceVersion:
    """The file store's: players read the packager's files, which it publishes and withdraws itself
    (packager/versions.py)."""

    debate_id: str
    playable: OnPlayable

    def poke(self) -> None:
        return None

    @property
    def resumed(self) -> int | None:
        return None  # the packager finds what an earlier attempt left in the media root itself

    async def fetch(self, files: list[Path]) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, version: int, version_dir: Path) -> Publication:
        return Publication(self.debate_id, version)

    async def discard(self) -> None:
        return None


class FileMediaStore:
    """Today's layout on a local or shared disk: the packager writes in place and switches the master
    itself (packager/versions.py); nginx or ``/hls/`` serve the files."""

    serves_packager_files = True

    def __init__(self, media_root: Path) -> None:
        self.media_root = media_root

    def debate_dir(self, debate_id: str, scratch: Path) -> Path:
        return self.media_root / debate_id

    async def start_version(
        self,
        debate_id: str,
        debate_dir: Path,
        on_playable: OnPlayable,
        on_synced: OnSynced | None = None,
        *,
        resume: bool = False,
    ) -> VersionUpload:
        return InPlaceVersion(debate_id, on_playable)

    async def fetch_current(self, debate_id: str, debate_dir: Path) -> None:
        return None  # the packager works in the media root

    async def withdraw(self, publication: Publication) -> None:
        return None  # the files are the packager's: ingest/packaging.discard_version withdraws them

    async def remove_unpublished(self, debate_id: str, published: int | None) -> list[int]:
        # the versions the packager never completed: ``published`` is the newest complete one
        return await asyncio.to_thread(_remove_unpublished, self.media_root / debate_id)

    async def respond(
        self, request: web.Request, key: str, headers: Mapping[str, str]
    ) -> web.StreamResponse | None:
        return None

    async def size(self, key: str) -> int | None:
        return await asyncio.to_thread(_file_size, self.media_root / key)

    async def read(self, key: str) -> bytes | None:
        return await asyncio.to_thread(_file_bytes, self.media_root / key)

    async def put(self, key: str, data: Path | bytes) -> None:
        await asyncio.to_thread(_put_file, self.media_root / key, data)

    async def check(self) -> str | None:
        return None

    async def close(self) -> None:
        return None


def create_media_store(settings: Settings) -> MediaStore:
    location = settings.s3_location
    if location is None:
        return FileMediaStore(settings.media_root)
    from .s3_store import S3MediaStore

    return S3MediaStore.from_settings(settings, *location)

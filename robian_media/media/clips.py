"""Clips (DESIGN §9): made once per (debate, version, start, end) and kept under ``clips/`` — in the
media root with the file store, evicted least recently used past ``ROBIAN_CLIPS_MAX_BYTES``; in the
bucket with the s3 store (cut in a scratch directory from the rung's objects, removed with their version).

Once: concurrent first requests in one process share one making (a future per clip); processes and
machines sharing the media root take the version's lock file (``flock``) and look again before making.
Least recently used: every request sets the clip's access time (its modification time, hence the
ETag nginx and aiohttp derive from it, never moves), and eviction removes the oldest accesses first.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from prometheus_client import CollectorRegistry, Counter

from packager.chapters import Chapter
from packager.clip import ClipError, segments_in_range, write_clip

from ..settings import Settings
from .store import MediaStore, MediaStoreError, gather_all, safe_key

log = logging.getLogger(__name__)

CLIPS_DIR = "clips"
LOCK_NAME = ".lock"
_LOCK_POLL_S = 0.05
MAX_CLIP_SECONDS = 3600.0
# cuts one process runs at once (each keeps about one core busy for a moment): many distinct first
# requests queue here rather than starving everything else the process serves
MAX_CONCURRENT_CUTS = 2
# segments fetched at once from a remote store for one cut
FETCHES_AT_ONCE = 8


@dataclass(frozen=True)
class ClipSpec:
    """What a clip is cut from and what it carries. Times in milliseconds of the sitting."""

    debate_id: UUID
    version: int
    start_ms: int
    end_ms: int
    # the top fMP4 rung, relative to the version directory (e.g. ``a128``)
    rung: str
    chapters: Sequence[Chapter] = ()
    title: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def relative(self) -> str:
        """Path under the media root (what nginx's internal location aliases)."""
        return f"{CLIPS_DIR}/{self.debate_id}/v{self.version}/{self.start_ms}-{self.end_ms}.m4a"


def clip_relative(debate_id: UUID, version: int, start_ms: int, end_ms: int) -> str:
    return ClipSpec(debate_id, version, start_ms, end_ms, rung="").relative


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def day(starts_at: dt.datetime | None) -> str:
    return starts_at.date().isoformat() if starts_at else ""


def top_rung_dir(variants: Iterable[Mapping[str, object]]) -> str | None:
    """The richest fMP4 rung's directory (``a128`` of ``a128/index.m3u8``): what clips are cut from,
    as download.m4a is."""
    fmp4 = [v for v in variants if v.get("kind") == "fmp4" and v.get("uri")]
    if not fmp4:
        return None
    top = max(fmp4, key=lambda v: int(str(v.get("bandwidth") or 0)))
    return str(top["uri"]).rpartition("/")[0]


def intervention_range(start: float, end: float, duration: float) -> tuple[float, float]:
    """What an intervention's clip covers: its chapter, at most an hour, within the sitting."""
    return start, min(end, start + MAX_CLIP_SECONDS, duration)


def intervention_spec(
    debate_id: UUID,
    version: int,
    rung: str,
    chapter: Chapter,
    chapters: Sequence[Chapter],
    *,
    duration: float,
    album: str,
    starts_at: dt.datetime | None,
) -> ClipSpec:
    """The clip of one intervention: the same file whether the publishing job or a listener asks first."""
    start, end = intervention_range(chapter.start, chapter.end, duration)
    speaker = chapter.speaker.name
    return ClipSpec(
        debate_id=debate_id,
        version=version,
        start_ms=to_ms(start),
        end_ms=to_ms(end),
        rung=rung,
        chapters=chapters,
        title=f"{speaker} — {chapter.title or album}",
        tags={"artist": speaker, "album": album, "date": day(starts_at)},
    )


class ClipStore:
    """Clips of the file store in the media root (least recently used evicted); of a remote store (s3)
    in its bucket under the same key, cut in a scratch directory from the rung's objects."""

    def __init__(
        self,
        media_root: Path,
        ffmpeg: str,
        *,
        max_bytes: int,
        store: MediaStore | None = None,
        scratch: Path | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.media_root = media_root
        self.ffmpeg = ffmpeg
        self.max_bytes = max_bytes
        # None: the file store (clips in the media root); otherwise the bucket and where cuts are made
        self.remote = store if store is not None and not store.serves_packager_files else None
        self.scratch = scratch or Path(tempfile.gettempdir())
        self._making: dict[str, asyncio.Future[None]] = {}
        self._cuts = asyncio.Semaphore(MAX_CONCURRENT_CUTS)
        self._made = Counter(
            "robian_clips_made_total",
            "Clips cut and written (a first request or the publishing job)",
            registry=registry,
        )
        self._evicted = Counter(
            "robian_clips_evicted_total",
            "Clips removed to stay within ROBIAN_CLIPS_MAX_BYTES",
            registry=registry,
        )

    async def ensure(self, spec: ClipSpec) -> None:
        """The clip exists at ``spec.relative`` (the media root's file: its access time is now; or the
        store's object), made first if needed."""
        if self.remote is None and _touch(self.media_root / spec.relative):
            return
        pending = self._making.get(spec.relative)
        if pending is None:
            making = self._make(spec) if self.remote is None else self._make_remote(self.remote, spec)
            pending = asyncio.ensure_future(making)
            self._making[spec.relative] = pending
            pending.add_done_callback(lambda done: self._finished(spec.relative, done))
        # shielded: a client that goes away does not cancel the making the others wait for
        await asyncio.shield(pending)

    def _finished(self, relative: str, done: asyncio.Future[None]) -> None:
        self._making.pop(relative, None)
        failure = None if done.cancelled() else done.exception()
        # a range without a frame, a version gone: the request says so; anything else is logged
        if failure is not None and not isinstance(failure, ClipError | FileNotFoundError | MediaStoreError):
            log.warning("clip not made", extra={"clip": relative}, exc_info=failure)

    async def _make(self, spec: ClipSpec) -> None:
        path = self.media_root / spec.relative
        version_dir = self.media_root / str(spec.debate_id) / f"v{spec.version}"
        if not (version_dir / spec.rung / "init.mp4").is_file():
            raise FileNotFoundError(f"no rung {spec.rung} in {version_dir}")
        path.parent.mkdir(parents=True, exist_ok=True)
        async with self._cuts, _locked(path.parent / LOCK_NAME):
            if _touch(path):  # another process made it while this one waited
                return
            await self._cut(spec, version_dir / spec.rung, path)
        evicted = await asyncio.to_thread(evict, self.media_root / CLIPS_DIR, self.max_bytes, keep=path)
        self._evicted.inc(evicted)

    async def _make_remote(self, store: MediaStore, spec: ClipSpec) -> None:
        """Cut from the rung's objects fetched into a scratch directory (removed after), then put. Two
        machines asking at once may both cut: the same bytes, one PUT wins whole."""
        if await store.size(spec.relative) is not None:
            return
        async with self._cuts:
            await asyncio.to_thread(self.scratch.mkdir, parents=True, exist_ok=True)
            scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="clip-", dir=self.scratch))
            try:
                rung_dir = scratch / "rung"
                await fetch_rung(store, f"{spec.debate_id}/v{spec.version}/{spec.rung}", rung_dir, spec)
                target = scratch / "clip.m4a"
                await self._cut(spec, rung_dir, target)
                await store.put(spec.relative, target)
            finally:
                await asyncio.to_thread(shutil.rmtree, scratch, ignore_errors=True)

    async def _cut(self, spec: ClipSpec, rung_dir: Path, target: Path) -> None:
        await write_clip(
            self.ffmpeg,
            rung_dir,
            target,
            start=spec.start_ms / 1000,
            end=spec.end_ms / 1000,
            chapters=spec.chapters,
            title=spec.title,
            tags=spec.tags,
        )
        self._made.inc()


def create_clip_store(
    settings: Settings, ffmpeg: str, store: MediaStore, registry: CollectorRegistry | None
) -> ClipStore:
    return ClipStore(
        settings.media_root,
        ffmpeg,
        max_bytes=settings.clips_max_bytes,
        store=store,
        scratch=settings.work_dir / CLIPS_DIR,
        registry=registry,
    )


async def fetch_rung(store: MediaStore, rung_key: str, rung_dir: Path, spec: ClipSpec) -> None:
    """Into ``rung_dir``: the rung's playlist, init segment and the segments the clip's range reads."""
    playlist = await store.read(f"{rung_key}/index.m3u8")
    if playlist is None:
        raise FileNotFoundError(f"no rung {rung_key} in the media store")
    uris = segments_in_range(playlist.decode(), spec.start_ms / 1000, spec.end_ms / 1000)
    if not all(safe_key(uri) and "/" not in uri for uri in uris):
        raise FileNotFoundError(f"unexpected segment names in {rung_key}/index.m3u8")
    limit = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def fetch(name: str) -> None:
        async with limit:
            data = await store.read(f"{rung_key}/{name}")
        if data is None:
            raise FileNotFoundError(f"{rung_key}/{name} is missing in the media store")
        await asyncio.to_thread((rung_dir / name).write_bytes, data)

    await asyncio.to_thread(rung_dir.mkdir, parents=True)
    await asyncio.to_thread((rung_dir / "index.m3u8").write_bytes, playlist)
    await gather_all(fetch(name) for name in ["init.mp4", *uris])


def _touch(path: Path) -> bool:
    """Mark ``path`` used now (access time only); False if it does not exist."""
    try:
        stat = path.stat()
        os.utime(path, ns=(time.time_ns(), stat.st_mtime_ns))
    except FileNotFoundError:
        return False
    return True


@contextlib.asynccontextmanager
async def _locked(lock_path: Path) -> AsyncIterator[None]:
    """An exclusive ``flock`` on ``lock_path``, polled so that waiting never blocks the event loop."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(_LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def evict(root: Path, max_bytes: int, *, keep: Path | None = None) -> int:
    """Remove the least recently used clips under ``root`` until they fit ``max_bytes``; how many went."""
    clips: list[tuple[int, int, str]] = []
    total = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".m4a") or name.startswith("."):
                continue
            full = os.path.join(directory, name)
            try:
                stat = os.stat(full)
            except FileNotFoundError:
                continue
            clips.append((stat.st_atime_ns, stat.st_size, full))
            total += stat.st_size
    removed = 0
    for _, size, full in sorted(clips):
        if total <= max_bytes:
            break
        if keep is not None and full == str(keep):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(full)
            removed += 1
        total -= size
    if removed:
        log.info("clips evicted", extra={"removed": removed, "bytes_kept": total})
    return removed

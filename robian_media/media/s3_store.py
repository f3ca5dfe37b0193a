"""The ``s3`` media store (docs/media-store.md): any S3-compatible bucket, through obstore (the Rust
``object_store`` crate of Apache Arrow: async, pooled connections, multipart uploads of large objects,
retries with exponential backoff and jitter on 5xx/SlowDown and dropped connections).

Objects are keyed as the media root is laid out (``{prefix}/{debate_id}/master.m3u8``,
``{prefix}/{debate_id}/v{n}/…``) with their Content-Type and Cache-Control. Publishing a version puts
its segments and rung playlists, then its master, then — one PUT — the debate's top master: a player
never reads a master whose objects are not all there. While the worker packages, the version already
goes up as it grows (``media/s3_upload.py``: progressive playback).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import obstore
from aiohttp import web
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from packager.atomic import write_atomic
from packager.download import DOWNLOAD_NAME
from packager.playlists import MASTER_NAME, prefixed_master
from packager.versions import LAST_VERSION

from ..settings import Settings
from .clips import CLIPS_DIR
from .object_response import stream_object
from .s3_resume import fetch_left_recording
from .s3_upload import FollowedVersion
from .serving import IMMUTABLE, MIME_TYPES, SHORT
from .store import MediaStoreError, OnPlayable, OnSynced, Publication, gather_all

log = logging.getLogger(__name__)

# objects put at once while publishing (each a connection of the pool)
CONCURRENT_PUTS = 16
# objects larger than this go up in parts (download.m4a of a long sitting: hundreds of MB)
PART_BYTES = 8 << 20
_VERSION = re.compile(r"^v(\d+)$")
_MASTER_VERSION = re.compile(rb"^v(\d+)/", re.MULTILINE)


def object_headers(key: str, *, growing: bool = False) -> dict[str, str]:
    """Content-Type and Cache-Control of a key of the layout: a version's objects (and its clips,
    ``clips/{debate}/v{n}/…``) are immutable once they are in the store (each goes up complete); the
    top master and the playlists of a version still being packaged (``growing``) change."""
    suffix = key[key.rfind(".") :]
    parts = key.removeprefix(f"{CLIPS_DIR}/").split("/")
    versioned = len(parts) > 1 and _VERSION.match(parts[1]) is not None
    return {
        "Content-Type": MIME_TYPES.get(suffix, "application/octet-stream"),
        "Cache-Control": IMMUTABLE if versioned and not growing else SHORT,
    }


def publish_order(version_dir: Path) -> list[list[Path]]:
    """A version's files in the order they go up: media and data, rung playlists, the version master."""
    files = sorted(p for p in version_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    master = version_dir / MASTER_NAME
    media = [p for p in files if p.suffix != ".m3u8"]
    playlists = [p for p in files if p.suffix == ".m3u8" and p != master]
    return [media, playlists, [master]]


def _version_of(master: bytes | None) -> int | None:
    found = _MASTER_VERSION.search(master or b"")
    return int(found.group(1)) if found else None


def _last_version(marker: bytes | None) -> int:
    try:
        return int((marker or b"0").strip() or 0)
    except ValueError:
        return 0


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def _remember_last_version(debate_dir: Path, version: int) -> None:
    debate_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(debate_dir / LAST_VERSION, f"{version}\n")


class S3MediaStore:
    serves_packager_files = False

    def __init__(self, store: S3Store, *, secrets: Iterable[str] = (), where: str = "s3") -> None:
        self._store = store
        self._secrets = [s for s in secrets if s]
        self._where = where

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str, prefix: str) -> S3MediaStore:
        endpoint = settings.s3_endpoint_url
        key_id = settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        config: dict[str, Any] = {"region": settings.s3_region}
        if endpoint:
            # MinIO, Ceph RGW, R2…: path-style URLs (http only where the operator wrote http://)
            config.update(endpoint=endpoint.rstrip("/"), virtual_hosted_style_request=False)
        if key_id and secret:
            config.update(access_key_id=key_id, secret_access_key=secret)
        else:
            config.update(skip_signature=True)
        store = S3Store(
            bucket,
            prefix=prefix or None,
            config=config,  # type: ignore[arg-type]
            client_options={
                "allow_http": bool(endpoint and endpoint.startswith("http://")),
                "connect_timeout": timedelta(seconds=5),
                "timeout": timedelta(seconds=300),
            },
            retry_config={
                "max_retries": 10,
                "retry_timeout": timedelta(seconds=settings.s3_retry_seconds),
                "backoff": {
                    "init_backoff": timedelta(milliseconds=100),
                    "max_backoff": timedelta(seconds=15),
                },
            },
        )
        return cls(store, secrets=[key_id or "", secret or ""], where=settings.media_store)

    # -- errors ------------------------------------------------------------------------------------

    def _error(self, what: str, key: str, exc: BaseException) -> MediaStoreError:
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        return MediaStoreError(f"The media store could not {what} {key}: {detail}")

    async def _call(self, what: str, key: str, operation: Awaitable[Any]) -> Any:
        try:
            return await operation
        except (BaseError, OSError) as exc:
            raise self._error(what, key, exc) from None

    # -- objects -----------------------------------------------------------------------------------

    async def put(self, key: str, data: Path | bytes, *, growing: bool = False) -> None:
        headers = object_headers(key, growing=growing)
        await self._call(
            "write", key, obstore.put_async(self._store, key, data, attributes=headers, chunk_size=PART_BYTES)
        )

    async def read(self, key: str) -> bytes | None:
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except (FileNotFoundError, NotFoundError):  # obstore raises the former
            return None
        except (BaseError, OSError) as exc:
            raise self._error("read", key, exc) from None

    async def delete(self, keys: list[str]) -> None:
        if keys:
            await self._call("delete", keys[0], obstore.delete_async(self._store, keys))

    async def keys_under(self, prefix: str) -> list[str]:
        found: list[str] = []
        try:
            async for chunk in obstore.list(self._store, prefix.rstrip("/") + "/"):
                found.extend(meta["path"] for meta in chunk)
        except (BaseError, OSError) as exc:
            raise self._error("list", prefix, exc) from None
        return found

    async def versions(self, debate_id: str) -> list[int]:
        listing = await self._call(
            "list", debate_id, obstore.list_with_delimiter_async(self._store, f"{debate_id}/")
        )
        names = (prefix.rsplit("/", 1)[-1] for prefix in listing["common_prefixes"])
        return sorted(int(m.group(1)) for m in map(_VERSION.match, names) if m)

    async def put_all(self, pairs: list[tuple[str, Path]]) -> None:
        limit = asyncio.Semaphore(CONCURRENT_PUTS)

        async def one(key: str, path: Path) -> None:
            async with limit:
                await self.put(key, path)

        # every put ends (or fails) before this returns: nothing is left writing behind a withdraw
        await gather_all(one(key, path) for key, path in pairs)

    # -- the MediaStore protocol -------------------------------------------------------------------

    def debate_dir(self, debate_id: str, scratch: Path) -> Path:
        return scratch / debate_id

    async def prepare(self, debate_id: str, debate_dir: Path) -> None:
        present = await self.versions(debate_id)
        # numbers handed out to versions players saw while packaged, whose objects a failed job removed
        last = max([*present, _last_version(await self.read(f"{debate_id}/{LAST_VERSION}"))])
        if last:
            # the packager's next number comes after every version the store holds (packager/versions.py)
            await asyncio.to_thread(_remember_last_version, debate_dir, last)

    async def fetch_current(self, debate_id: str, debate_dir: Path) -> None:
        """The top master and the objects of the version it names into the scratch ``debate_dir``
        (the offline file and clips left out: a re-cut makes its own from the segments)."""
        master = await self.read(f"{debate_id}/{MASTER_NAME}")
        version = _version_of(master)
        if master is None or version is None:
            return  # nothing published: the re-cut says so
        keys = [
            key
            for key in await self.keys_under(f"{debate_id}/v{version}")
            if not key.endswith(f"/{DOWNLOAD_NAME}")
        ]
        await self.get_all([(key, debate_dir / key.removeprefix(f"{debate_id}/")) for key in keys])
        await asyncio.to_thread(_write_file, debate_dir / MASTER_NAME, master)

    async def get_all(self, pairs: list[tuple[str, Path]]) -> None:
        """Each object into its file (MediaStoreError if one is missing), up to CONCURRENT_PUTS at once."""
        slots = asyncio.Semaphore(CONCURRENT_PUTS)  # the same bound on gets

        async def get(key: str, target: Path) -> None:
            async with slots:
                data = await self.read(key)
            if data is None:
                raise self._error("get", key, FileNotFoundError(key))
            await asyncio.to_thread(_write_file, target, data)

        await gather_all(get(key, target) for key, target in pairs)

    async def start_version(
        self,
        debate_id: str,
        debate_dir: Path,
        on_playable: OnPlayable,
        on_synced: OnSynced | None = None,
        *,
        resume: bool = False,
    ) -> FollowedVersion:
        await self.prepare(debate_id, debate_dir)
        previous = await self.read(f"{debate_id}/{MASTER_NAME}")
        version = _version_of(previous)
        if resume and version is not None:
            left = await fetch_left_recording(self, debate_id, version, debate_dir)
            if left is not None:
                # a live sitting's debate had nothing published before its recording: taking the
                # recording back leaves no master (FollowedVersion.discard)
                return FollowedVersion(
                    self, debate_id, debate_dir, None, on_playable, on_synced, resumed=left
                )
        return FollowedVersion(self, debate_id, debate_dir, previous, on_playable, on_synced)

    async def publish(self, debate_id: str, version: int, version_dir: Path) -> Publication:
        """Publish a version none of which is in the store yet."""
        previous = await self.read(f"{debate_id}/{MASTER_NAME}")
        return await self.publish_version(Publication(debate_id, version, previous), version_dir)

    async def publish_version(
        self,
        publication: Publication,
        version_dir: Path,
        *,
        uploaded: set[str] | frozenset[str] = frozenset(),
        pointed: bool = False,
    ) -> Publication:
        """Put the finished version (but the ``uploaded`` objects, already there as they are), then the
        top master. ``pointed``: the top master may already point at this version (progressive playback)."""
        debate_id, version = publication.debate_id, publication.version
        prefix = f"{debate_id}/v{version}"
        batches = await asyncio.to_thread(publish_order, version_dir)
        try:
            for batch in batches:
                pairs = [(f"{prefix}/{p.relative_to(version_dir).as_posix()}", p) for p in batch]
                await self.put_all([(key, path) for key, path in pairs if key not in uploaded])
        except BaseException:
            await self.take_back(publication, pointed=pointed)
            raise
        master = await asyncio.to_thread((version_dir / MASTER_NAME).read_bytes)
        try:
            await self.point_master(debate_id, version, master)
        except BaseException:
            # the PUT may have landed before the error: the version goes only once the old master is back
            await self.withdraw(publication)
            raise
        await self._retain(debate_id, version, _version_of(publication.previous_master))
        return publication

    async def take_back(self, publication: Publication, *, pointed: bool) -> None:
        """Best effort, for a version that did not become current: the previous top master back first
        if it may point at this version (if that fails, the version stays whole), then its objects."""
        try:
            if pointed:
                await self._put_back_master(publication)
            keys = await self._version_keys(publication.debate_id, publication.version)
        except MediaStoreError as exc:
            log.warning("unpublished objects left in the media store", extra={"error": str(exc)})
            return
        await self._forget(keys)

    async def withdraw(self, publication: Publication) -> None:
        await self._put_back_master(publication)
        await self._forget(await self._version_keys(publication.debate_id, publication.version))

    async def remove_unpublished(self, debate_id: str, published: int | None) -> list[int]:
        left = [v for v in await self.versions(debate_id) if published is None or v > published]
        master_key = f"{debate_id}/{MASTER_NAME}"
        if left and _version_of(await self.read(master_key)) in left:
            # players were sent to one of them (progressive playback, a live recording): back to the
            # published version first, so no master ever points at missing objects
            if published is None:
                await self.delete([master_key])
            else:
                key = f"{debate_id}/v{published}/{MASTER_NAME}"
                master = await self.read(key)
                if master is None:
                    raise self._error("get", key, FileNotFoundError(key))
                await self.point_master(debate_id, published, master)
        for version in left:
            await self.delete(await self._version_keys(debate_id, version))
        return left

    async def point_master(self, debate_id: str, version: int, master: bytes) -> None:
        """The top master becomes version ``version``'s own ``master``, its URIs prefixed by ``v{n}/``."""
        top = prefixed_master(master.decode("utf-8"), f"v{version}/").encode()
        await self.put(f"{debate_id}/{MASTER_NAME}", top)

    async def _put_back_master(self, publication: Publication) -> None:
        master_key = f"{publication.debate_id}/{MASTER_NAME}"
        if publication.previous_master is None:
            await self.delete([master_key])
        else:
            await self.put(master_key, publication.previous_master)

    async def _version_keys(self, debate_id: str, version: int) -> list[str]:
        """A version's objects and the clips cut from it."""
        own = await self.keys_under(f"{debate_id}/v{version}")
        return own + await self.keys_under(f"{CLIPS_DIR}/{debate_id}/v{version}")

    async def _forget(self, keys: list[str]) -> None:
        """Best effort: objects no master points at (a later publish or retention removes leftovers)."""
        try:
            await asyncio.shield(self.delete(keys))
        except MediaStoreError as exc:
            log.warning("unpublished objects left in the media store", extra={"error": str(exc)})

    async def _retain(self, debate_id: str, current: int, previous: int | None) -> None:
        """Keep the new version and the one players were on (they finish it); older ones go."""
        try:
            old = [v for v in await self.versions(debate_id) if v < current and v != previous]
            for version in old:
                await self.delete(await self._version_keys(debate_id, version))
        except MediaStoreError as exc:
            log.warning("old versions not removed from the media store", extra={"error": str(exc)})

    async def respond(
        self, request: web.Request, key: str, headers: Mapping[str, str]
    ) -> web.StreamResponse | None:
        return await stream_object(self, request, key, {**object_headers(key), **headers})

    async def get(self, key: str, options: dict[str, Any]) -> obstore.GetResult:
        return await obstore.get_async(self._store, key, options=options)  # type: ignore[arg-type]

    async def head(self, key: str) -> obstore.ObjectMeta:
        return await obstore.head_async(self._store, key)

    async def size(self, key: str) -> int | None:
        try:
            return int((await self.head(key))["size"])
        except (BaseError, OSError):  # missing, or the store not answering: the size is unknown
            return None

    async def check(self) -> str | None:
        # a key that never exists: "not found" is the store answering, with our credentials accepted
        await self.read(".ready")
        return self._where

    async def close(self) -> None:
        return None

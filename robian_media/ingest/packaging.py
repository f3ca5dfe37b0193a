"""The one place the server calls the packager: probe, package, discard; its errors made ingest errors."""

from __future__ import annotations

import asyncio
import errno
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from packager.chapters import ChapterError, ChapterIn
from packager.cmaf import BoxError
from packager.ffmpeg import FFmpegError, MediaError, MediaInfo, probe
from packager.ladder import LadderError
from packager.playlists import Variant
from packager.transcript import TranscriptError, TranscriptIn
from packager.validate import ValidationError as RenditionInvalid
from packager.versions import DebateBusyError, recover
from packager.vod import PackageResult, package

from ..jobs.errors import ChapterProblem, CorruptMedia, PermanentError, ProcessKilled, TransientError
from ..jobs.publish import DebateUpdate, SpeakerRecord, Transcript, publish_version
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..media.store import MediaStore, MediaStoreError, Publication, VersionUpload
from ..ops.background import complete_despite_cancel


class PackagingFailed(PermanentError):
    """FFmpeg or the packager's own checks refused the rendition."""


class DebateBusy(TransientError):
    """Another packager works on this debate (a presumed-dead attempt still running)."""


class MediaStoreUnavailable(TransientError):
    """The media store (s3) did not take the version; the previous one still serves, a later attempt
    publishes again."""

    category = "media store unavailable"


class MediaDiskFull(TransientError):
    """The media root ran out of space; the partial version is gone, a later attempt may fit."""

    category = "media storage full"


@contextmanager
def packager_errors() -> Iterator[None]:
    try:
        yield
    except ChapterError as exc:
        raise ChapterProblem(f"The chapters do not fit this media: {exc}") from exc
    except TranscriptError as exc:
        raise ChapterProblem(f"The transcript does not fit this media: {exc}") from exc
    except MediaError as exc:
        raise CorruptMedia(f"The source cannot be used as audio: {exc}") from exc
    except FFmpegError as exc:
        if exc.returncode is None or exc.returncode < 0:
            raise ProcessKilled(f"FFmpeg was stopped by a signal: {exc}") from exc
        raise PackagingFailed(f"FFmpeg failed: {exc}") from exc
    except DebateBusyError as exc:
        raise DebateBusy(str(exc)) from exc
    except MediaStoreError as exc:
        raise MediaStoreUnavailable(f"{exc}; the previous version still serves.") from None
    except (LadderError, RenditionInvalid, BoxError) as exc:
        raise PackagingFailed(f"The rendition could not be built: {exc}") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise MediaDiskFull(
                "The media disk is full (No space left on device): the partial version was removed; "
                "free space under ROBIAN_MEDIA_ROOT, then submit again."
            ) from exc
        raise


async def probe_source(ffmpeg: str, source: Path) -> MediaInfo:
    with packager_errors():
        return await probe(ffmpeg, source)


async def package_source(
    source: Path,
    debate_dir: Path,
    *,
    ladder: str,
    chapters: Sequence[ChapterIn],
    starts_at: datetime | None,
    ffmpeg: str,
    title: str | None,
    on_progress: Callable[[str, float], None],
    on_playable: Callable[[int, list[Variant]], None] | None = None,
    transcript: Sequence[TranscriptIn] = (),
) -> PackageResult:
    """Package ``source`` as the debate's next version; progress is reported as stage ``packaging``."""
    with packager_errors():
        return await package(
            source,
            debate_dir,
            ladder=ladder,
            chapters=chapters,
            starts_at=starts_at,
            ffmpeg=ffmpeg,
            on_progress=lambda _stage, fraction: on_progress("packaging", fraction),
            title=title,
            on_playable=on_playable,
            transcript=transcript,
        )


def _discard(result: PackageResult) -> None:
    shutil.rmtree(result.version_dir, ignore_errors=True)
    # points the debate master back at the newest complete version left (or removes it)
    recover(result.debate_dir)


async def discard_version(result: PackageResult) -> None:
    """Withdraw a packaged version whose publish did not happen (cancelled, superseded)."""
    with packager_errors():
        await asyncio.to_thread(_discard, result)


async def withdraw(store: MediaStore, publication: Publication, result: PackageResult) -> None:
    """Take back a version the store published but the database refused (cancelled, superseded)."""
    await discard_version(result)
    with packager_errors():
        await store.withdraw(publication)


async def publish_package(
    res: WorkerResources,
    run: JobRun,
    upload: VersionUpload,
    result: PackageResult,
    *,
    speakers: list[SpeakerRecord],
    debate: DebateUpdate,
    words_source: str,
) -> None:
    """Publish a packaged version: to the store first (s3: segments and rung playlists, the version
    master, then the top master), then in the database (with its words, from ``words_source``); when
    a side fails, what the other did is taken back, so the store and the database agree."""
    try:
        with packager_errors():
            publication = await upload.publish(result.version, result.version_dir)
    except BaseException:
        await complete_despite_cancel(discard_version(result))
        raise
    transcript = (
        Transcript(source=words_source, paragraphs=result.transcript, cues=result.cues)
        if result.transcript
        else None
    )
    try:
        await publish_version(
            res.pool,
            run,
            version=result.version,
            duration=result.duration,
            variants=result.variants,
            chapters=result.chapters,
            speakers=speakers,
            debate=debate,
            transcript=transcript,
        )
    except BaseException:
        # not recorded as published: withdraw the files too
        await complete_despite_cancel(withdraw(res.store, publication, result))
        raise

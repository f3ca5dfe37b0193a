"""One attempt of an ingest job: fetching → probing → packaging → publishing.

Chapters come from, in order of preference: the request, the compte rendu, the AN portal's
timeline, the chapters yt-dlp found. Chapters found in sources that start after the end of the
media are dropped (sources disagree at the edges); chapters given in the request must fit.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

from packager.versions import recover
from packager.vod import PackageResult

from ..jobs.errors import SourceNotFound, SourceTooLarge
from ..jobs.progress import ProgressReporter
from ..jobs.publish import DebateUpdate
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun, current_version
from ..ops.background import complete_despite_cancel
from .chapter_input import ChapterIn, SpeakerIn
from .models import IngestRequest
from .packaging import package_source, packager_errors, probe_source, publish_package
from .playable import PlayableMarker
from .sources.an_compte_rendu import CompteRendu, parse_compte_rendu
from .sources.an_portal import (
    PortalData,
    PortalVideo,
    Timeline,
    parse_data_nvs,
    parse_timeline,
    portal_chapters,
)
from .sources.fetch_policy import FetchPolicy
from .sources.http_fetch import SourceClient
from .sources.source_url import locate_source
from .sources.ytdlp_runner import Download, download_source
from .speakers import Spoken, named, resolve_speakers

log = logging.getLogger(__name__)

MAX_METADATA_BYTES = 32 << 20


@dataclass(slots=True)
class Findings:
    """What the sources said about the sitting, before the media is fetched."""

    media_url: str | None = None
    portal: PortalData | None = None
    timeline: Timeline | None = None
    compte_rendu: CompteRendu | None = None
    download: Download | None = None

    def chapters(self) -> list[ChapterIn]:
        if self.compte_rendu and self.compte_rendu.chapters:
            return self.compte_rendu.chapters
        if self.portal and self.timeline:
            found = portal_chapters(self.portal, self.timeline)
            if found:
                return found
        if self.download and self.download.chapters:
            return [
                ChapterIn(start=c.start, end=c.end, speaker=SpeakerIn(name=c.title or f"Chapitre {i + 1}"))
                for i, c in enumerate(self.download.chapters)
            ]
        return []

    def debate(self, request: IngestRequest) -> DebateUpdate:
        cr, portal = self.compte_rendu, self.portal
        title = (cr.title if cr else None) or (portal.title() if portal else None)
        if title is None and self.download is not None:
            title = self.download.title
        starts_at = (self.timeline.starts_at if self.timeline else None) or (portal.date if portal else None)
        if starts_at is None and cr is not None:
            starts_at = cr.starts_at
        return DebateUpdate(
            title=None if request.title else title,
            body=None if request.body else (portal.body if portal else ("Séance publique" if cr else None)),
            starts_at=request.starts_at or starts_at,
            agenda_uid=(portal.meeting_id if portal else None) or (cr.seance_ref if cr else None),
        )


async def fetch_portal(client: SourceClient, video: PortalVideo, findings: Findings) -> None:
    data = await client.fetch(video.data_url, max_bytes=MAX_METADATA_BYTES, what="portal data.nvs")
    findings.portal = parse_data_nvs(data)
    findings.media_url = findings.portal.media_url()
    try:
        timeline = await client.fetch(
            video.timeline_url, max_bytes=MAX_METADATA_BYTES, what="portal timeline"
        )
    except SourceNotFound as exc:
        # the media is still there; only the chapter times are missing
        log.warning("portal timeline missing", extra={"uid": video.uid, "error": exc.message})
        return
    findings.timeline = parse_timeline(timeline)


async def fetch_compte_rendu(client: SourceClient, url: str, findings: Findings) -> None:
    data = await client.fetch(url, max_bytes=MAX_METADATA_BYTES, what="compte rendu")
    findings.compte_rendu = parse_compte_rendu(data)


def fitting(items: list[Spoken], duration: float, *, given: bool) -> list[Spoken]:
    """Chapters or paragraphs found in sources, without those starting past the media's end."""
    if given:
        return items
    kept = [c for c in items if c.start < duration]
    if len(kept) < len(items):
        log.warning(
            "source times past the end of the media dropped", extra={"dropped": len(items) - len(kept)}
        )
    return kept


async def run_ingest(
    run: JobRun, res: WorkerResources, progress: ProgressReporter, work_dir: Path
) -> PackageResult:
    """Fetch, package and publish; returns the published version. Raises IngestError subclasses."""
    settings = res.settings
    request = IngestRequest.model_validate(run.params)
    location = locate_source(request.source_url, settings)
    policy = FetchPolicy.from_settings(settings)
    findings = Findings(media_url=None if location.portal or location.local_path else location.url)

    progress.update("fetching", 0.0)
    client = SourceClient(policy, res.breakers)
    try:
        if location.portal is not None:
            await fetch_portal(client, location.portal, findings)
        if request.compte_rendu_url:
            await fetch_compte_rendu(client, request.compte_rendu_url, findings)
        if location.local_path is not None:
            source = location.local_path
        else:
            assert findings.media_url is not None
            await policy.check_url(findings.media_url)
            async with res.breakers.guard(urlsplit(findings.media_url).hostname or ""):
                findings.download = await download_source(
                    findings.media_url,
                    work_dir,
                    policy=policy,
                    max_bytes=settings.ingest_max_bytes,
                    max_duration=settings.ingest_max_duration_seconds,
                    ffmpeg_location=shutil.which("ffmpeg"),
                    on_progress=lambda fraction, _bytes: progress.update("fetching", fraction or 0.0),
                    stall_seconds=settings.ingest_stall_seconds,
                    min_bytes_per_second=settings.ingest_min_bytes_per_second,
                )
            source = findings.download.path
        progress.update("probing", 0.0)
        info = await probe_source(res.ffmpeg, source)
        if info.duration > settings.ingest_max_duration_seconds:
            raise SourceTooLarge(
                f"The source lasts {info.duration:.0f} s, more than the "
                f"{settings.ingest_max_duration_seconds:.0f} s allowed (ROBIAN_INGEST_MAX_DURATION_SECONDS)."
            )
        chapters = fitting(
            request.chapters or findings.chapters(), info.duration, given=bool(request.chapters)
        )
        words = request.transcript or (findings.compte_rendu.transcript if findings.compte_rendu else [])
        words = fitting(words, info.duration, given=bool(request.transcript))
        chapters, speakers = await resolve_speakers(
            chapters,
            pool=res.pool,
            client=client,
            settings=settings,
            others=[paragraph.speaker for paragraph in words],
        )
        words = named(words, speakers)
    finally:
        await client.close()
    progress.update("probing", 1.0)

    debate = findings.debate(request)
    # the media root (file store), or this attempt's scratch directory (s3: removed with work_dir)
    debate_dir = res.store.debate_dir(run.debate_id, work_dir / "publish")
    playable = PlayableMarker(res, run)
    with packager_errors():
        # a killed earlier attempt may have left an incomplete version (and the master on it)
        await asyncio.to_thread(recover, debate_dir)
        if run.attempt > 1 and not res.store.serves_packager_files:
            # and in the bucket (recover saw only this scratch directory): else this attempt would take
            # it for the published version, and players sent to it (progressive playback) would stay
            # on it until this attempt publishes
            published = await current_version(res.pool, UUID(run.debate_id))
            await res.store.remove_unpublished(run.debate_id, published)
        # players may start on the version being made (in place, or uploaded as it grows)
        upload = await res.store.start_version(run.debate_id, debate_dir, playable)
    progress.update("packaging", 0.0)
    try:
        result = await package_source(
            source,
            debate_dir,
            ladder=settings.ladder,
            chapters=chapters,
            starts_at=debate.starts_at,
            ffmpeg=res.ffmpeg,
            title=request.title or debate.title,
            on_progress=progress.update,
            on_playable=upload.playable,
            transcript=words,
        )
        await upload.stop()
    except BaseException:
        await complete_despite_cancel(upload.discard())
        raise
    finally:
        await playable.wait()
    progress.update("publishing", 0.0)
    await publish_package(
        res,
        run,
        upload,
        result,
        speakers=speakers,
        debate=debate,
        words_source="request" if request.transcript else "compte_rendu",
    )
    progress.update("publishing", 1.0)
    return result

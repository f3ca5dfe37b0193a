"""One attempt of a live job: the source's segments fed to the packager's live recorder until an operator
stops it or the source ends; then the recording is published as the debate's VOD version.

This is the job side: source polling (source.py), the job's rows and control (store.py), events. Two tasks
share it: the feeder (source segments into the recorder) and the control loop (operator's stop, new
speakers → chapters). FFmpeg runs, parts, segments, the TS rung and finishing the version are
``packager.live.recorder``'s.

With the s3 store the recorder writes into this attempt's scratch directory: each part and segment
goes up as it is written (``media/s3_upload.py``), then the playlists naming it, then ``live.parts`` on
the sitting's internal channel tells the API nodes (``live/store_watch.py``); the finished recording is
published to the bucket, a failed or cancelled one taken back. Local files do not outlive the attempt:
a later attempt (maybe on another machine) fetches the playlists of the recording left in the bucket
(``media/s3_resume.py``) and goes on with it, as it would from the file store's disk.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import asdict
from datetime import datetime

from packager.ladder import Ladder, load_ladder
from packager.live.recorder import LiveRecorder, record_live
from packager.live.resume import resumable
from packager.playlists import Variant
from packager.timeline import live_durations
from packager.versions import recover

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import publish_live_event, publish_live_parts, publish_version_published
from ..ingest.intervention_clips import make_intervention_clips
from ..ingest.packaging import packager_errors
from ..ingest.sources.fetch_policy import FetchPolicy
from ..ingest.sources.http_fetch import SourceClient
from ..jobs.errors import IngestError, PermanentError
from ..jobs.publish import DebateUpdate, NotOwner, publish_version
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..media.store import VersionUpload
from ..ops.background import cancel_and_wait, complete_despite_cancel, raise_if_cancelling, start_task
from . import store
from .models import LiveJobParams
from .resolve import resolve_live_source
from .source import LiveSource, SourceEnded, SourceSegment, SourceStalled

log = logging.getLogger(__name__)

CONTROL_SECONDS = 0.5


# a worker stopping (or another attempt taking over) leaves the recording to be resumed; a failure
# withdraws it (an operator's cancel: the task does, live/task.py)
LEFT_TO_RESUME = (asyncio.CancelledError, NotOwner)


class NothingRecorded(PermanentError):
    """The sitting ended before the source gave any audio."""


class NotResumable(PermanentError):
    """The recording an earlier attempt left in the store does not fit this worker's ladder."""


class LiveSession:
    def __init__(self, res: WorkerResources, run: JobRun) -> None:
        self.res = res
        self.run = run
        self.settings = res.settings
        self.request = LiveJobParams.model_validate(run.params)
        self.playlist_url = self.request.playlist_url or self.request.source_url
        self.ladder: Ladder = load_ladder(self.settings.ladder)
        self.part, self.segment = live_durations(
            self.settings.live_part_seconds,
            self.settings.live_segment_seconds,
            [rung.sample_rate for rung in self.ladder.rungs],
        )
        # the media root (file store), or this attempt's scratch directory (s3: removed at the end)
        self.scratch = self.settings.work_dir / run.job_id / f"a{run.attempt}"
        self.debate_dir = res.store.debate_dir(run.debate_id, self.scratch / "publish")
        self.upload: VersionUpload | None = None  # the s3 store's: the recording on its way up
        self.left: VersionUpload | None = None  # the s3 store's, left to the next attempt (or a withdraw)
        self.starts_at: datetime | None = None
        self.last_chapter = 0
        self.ended_reason = "stopped by an operator"
        self.started = time.monotonic()

    async def record(self) -> None:
        policy = FetchPolicy.from_settings(self.settings)
        await policy.check_url(self.request.source_url)
        client = SourceClient(policy, self.res.breakers, timeout=max(10.0, 4 * self.segment))
        try:
            self.playlist_url = await self._resolve_again(client)
            with packager_errors():
                await asyncio.to_thread(recover, self.debate_dir)
                if not self.res.store.serves_packager_files:
                    self.upload = await self.res.store.start_version(
                        self.run.debate_id,
                        self.debate_dir,
                        self._uploaded_playable,
                        on_synced=self._synced,
                        resume=resumable(self.settings.live_dvr_seconds),
                    )
            await self._record_version(client)
        except BaseException as exc:
            if self.upload is not None and isinstance(exc, LEFT_TO_RESUME):
                # what is up stays up (players go on with it): the next attempt resumes it from there
                await complete_despite_cancel(self.upload.stop())
                self.left = self.upload
            elif self.upload is not None:  # nothing can resume it: players lose it now
                await complete_despite_cancel(self.upload.discard())
            raise
        finally:
            await client.close()
            if self.upload is not None:
                await asyncio.to_thread(shutil.rmtree, self.scratch, True)

    async def withdraw(self) -> None:
        """An operator cancelled the job after this attempt left its recording: take it out of the store."""
        if self.left is not None:
            await self.left.discard()

    async def _record_version(self, client: SourceClient) -> None:
        poke = None if self.upload is None else self.upload.poke
        async with record_live(
            self.debate_dir,
            self.ladder,
            ffmpeg=self.res.ffmpeg,
            part_seconds=self.part,
            segment_seconds=self.segment,
            window=self.settings.live_dvr_seconds,
            keep_on=LEFT_TO_RESUME,
            on_playable=self._announce,
            on_part=None if poke is None else lambda _rung, _part: poke(),
            on_segment=None if poke is None else lambda _rung, _segment: poke(),
        ) as recorder:
            if self.upload is not None and self.upload.resumed is not None and not recorder.resumed:
                # recording afresh would put other bytes under the names of immutable objects
                raise NotResumable(
                    f"The live recording v{self.upload.resumed} left in the store cannot be resumed."
                )
            if recorder.resumed:
                await self._resumed(recorder)
            await self._record(client, recorder)
            await self._finish(recorder)

    async def _resolve_again(self, client: SourceClient) -> str:
        """A page is resolved again at each attempt: a portal channel's playlist may have changed since
        the job was submitted (or since the worker that died took it). If the page cannot be resolved
        now, the playlist found at submit time is tried (the source then says whether it is still live)."""
        if self.playlist_url == self.request.source_url:
            return self.playlist_url
        try:
            found = await resolve_live_source(self.request.source_url, self.settings, client)
        except IngestError as exc:
            log.info(
                "live page not resolved again: the playlist found at submit time is used",
                extra={"job_id": self.run.job_id, "error": exc.message},
            )
            await client.policy.check_url(self.playlist_url)
            return self.playlist_url
        if found.playlist_url != self.playlist_url:
            log.info("live page resolved to a new playlist", extra={"job_id": self.run.job_id})
        return found.playlist_url

    async def _resumed(self, recorder: LiveRecorder) -> None:
        """The recording an earlier attempt of this job left (its worker stopped or died) goes on."""
        chapters = await store.new_chapters(self.res.pool, self.run, 0)
        recorder.restore_chapters(chapters)
        if chapters:
            self.last_chapter = chapters[-1].index
        if self.upload is not None:
            # from the store: the segments the recorder reads soon, then the upload goes on from there
            # (the top master points at the recording already: no new announce)
            with packager_errors():  # the store's failures: transient
                await self.upload.fetch(await asyncio.to_thread(recorder.missing_segments))
            self.starts_at = recorder.starts_at
            self.upload.playable(recorder.version, recorder.nominal_variants())
        log.info(
            "live recording resumed",
            extra={
                "job_id": self.run.job_id,
                "version": recorder.version,
                "seconds": round(recorder.edge, 3),
            },
        )

    async def _record(self, client: SourceClient, recorder: LiveRecorder) -> None:
        source = LiveSource(
            client,
            self.playlist_url,
            poll_seconds=self.settings.live_source_poll_seconds,
            stall_seconds=self.settings.live_stall_seconds,
            outage_seconds=self.settings.live_outage_seconds,
        )
        feeder = asyncio.create_task(self._feed(source, recorder), name=f"live feeder {self.run.job_id}")
        try:
            while not feeder.done():
                await asyncio.wait([feeder], timeout=CONTROL_SECONDS)
                recorder.raise_failure()
                if await self._control(recorder):
                    break
            if feeder.done():
                feeder.result()  # the source's errors end the attempt
            await cancel_and_wait(feeder)
            await recorder.end_input()
        finally:
            await cancel_and_wait(feeder)
        if not recorder.playable():
            raise NothingRecorded("The live source gave no audio before the sitting ended.")

    # -- the source side ---------------------------------------------------------------------------

    async def _feed(self, source: LiveSource, recorder: LiveRecorder) -> None:
        async for item in source.items():
            if isinstance(item, SourceSegment):
                gap = await recorder.feed(
                    item.data, pdt=item.pdt, input_format=source.input_format, restart=item.restart
                )
                if gap:
                    log.warning(
                        "live source gap marked", extra={"job_id": self.run.job_id, "seconds": round(gap, 3)}
                    )
            elif isinstance(item, SourceStalled):
                log.warning("live source stalled", extra={"job_id": self.run.job_id, "seconds": item.since})
                await recorder.end_run()
            elif isinstance(item, SourceEnded):
                self.ended_reason = item.reason
                return
            if time.monotonic() - self.started > self.settings.live_max_seconds:
                self.ended_reason = "the longest recording allowed was reached"
                return

    async def _announce(self, version: int, starts_at: datetime, nominal: list[Variant]) -> None:
        """Playable: the recorder pointed the debate master at the recording (with the s3 store: once
        the upload pointed the bucket's master at it); listeners are told."""
        if self.upload is not None:
            self.starts_at = starts_at
            self.upload.playable(version, nominal)
            return
        await self._announced(version, starts_at, nominal)

    def _uploaded_playable(self, version: int, nominal: list[Variant]) -> None:
        assert self.starts_at is not None
        start_task(self._announced(version, self.starts_at, nominal), f"live playable {self.run.job_id}")

    async def _synced(self, playlists: list[str]) -> None:
        await publish_live_parts(self.res.bus, self.run.debate_id, playlists)

    async def _announced(self, version: int, starts_at: datetime, nominal: list[Variant]) -> None:
        variants = [asdict(v) for v in nominal]
        await store.announce_stream(self.res.pool, self.run, version, starts_at, variants)
        await invalidate_debate_caches(self.res.cache, self.run.debate_id)
        data = {
            "debate_id": self.run.debate_id,
            "master_url": self.res.master_url(self.run.debate_id),
            "starts_at": starts_at.isoformat(),
            "part_seconds": self.part,
            "segment_seconds": self.segment,
        }
        await self._publish("live.started", data)
        log.info("live stream playable", extra={"job_id": self.run.job_id, "version": version})

    async def _publish(self, type: str, data: dict[str, object]) -> None:
        try:
            await publish_live_event(self.res.bus, self.run.debate_id, type, data)
        except Exception:  # an event lost must not break the recording
            raise_if_cancelling()
            log.warning("live event not published", extra={"type": type}, exc_info=True)

    # -- the operator's side -----------------------------------------------------------------------

    async def _control(self, recorder: LiveRecorder) -> bool:
        """Apply new speakers; True when the recording must end (stop requested)."""
        control = await store.control(self.res.pool, self.run)
        if control.gone:
            raise NotOwner(f"live job {self.run.job_id} is no longer this attempt's")
        await self._speakers(recorder)
        return control.stop

    async def _speakers(self, recorder: LiveRecorder) -> None:
        if not recorder.playable():
            return  # no timeline yet: chapters wait until there is one
        fresh = await store.new_chapters(self.res.pool, self.run, self.last_chapter)
        if not fresh:
            return
        for aligned, previous in recorder.add_chapters(fresh):
            await store.align_chapter(self.res.pool, self.run, aligned, previous)
        self.last_chapter = fresh[-1].index

    # -- the end -------------------------------------------------------------------------------------

    async def _finish(self, recorder: LiveRecorder) -> None:
        await self._speakers(recorder)
        with packager_errors():
            if self.upload is not None and self.upload.resumed is not None:
                # the earlier attempts' segments, from the store: the VOD version is made of them
                missing = await asyncio.to_thread(recorder.missing_segments, finishing=True)
                await self.upload.fetch(missing)
            recording = await recorder.finish(title=self.request.title)
            if self.upload is not None:
                # the rest of the version, then the bucket's master (a failure: taken back by record())
                await self.upload.publish(recording.version, recording.version_dir)
        await publish_version(
            self.res.pool,
            self.run,
            version=recording.version,
            duration=recording.duration,
            variants=recording.variants,
            chapters=recording.chapters,
            speakers=[],
            debate=DebateUpdate(starts_at=recording.starts_at),
        )
        await invalidate_debate_caches(self.res.cache, self.run.debate_id)
        master_url = self.res.master_url(self.run.debate_id)
        await self._publish(
            "live.ended",
            {"debate_id": self.run.debate_id, "reason": self.ended_reason, "duration": recording.duration},
        )
        await publish_version_published(
            self.res.bus,
            self.run.job_id,
            self.run.debate_id,
            version=recording.version,
            duration=recording.duration,
            master_url=master_url,
        )
        # the speakers' feeds: each intervention of the recording as its own file (ingest's step)
        made = await make_intervention_clips(
            self.res,
            self.run.debate_id,
            version=recording.version,
            duration=recording.duration,
            variants=recording.variants,
            chapters=recording.chapters,
        )
        if made:
            await invalidate_debate_caches(self.res.cache, self.run.debate_id)

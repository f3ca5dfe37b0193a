"""One attempt of a live job: source → FFmpeg → live ladder, until stopped or the source ends; then VOD.

Three tasks share the work: the feeder (source segments into FFmpeg runs), FFmpeg's fragment readers
(parts and segments into the rendition, playlists rewritten as each arrives) and the control loop
(operator's stop, new speakers → DATERANGEs, the TS rung's finished segments).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

from packager.finalize import finalize_rendition
from packager.ladder import Ladder, Rung, load_ladder
from packager.live import LiveRendition, segment_start_at_or_after
from packager.live_encoder import LiveEncoder, remux_to_ts
from packager.live_playlist import live_durations
from packager.live_resume import resume_rendition
from packager.threads import run_blocking
from packager.versions import finish_version, live_version, point_master, recover, restore_version

from ..events.vocabulary import publish_live_event
from ..ingest.packaging import packager_errors
from ..ingest.sources.fetch_policy import FetchPolicy
from ..ingest.sources.http_fetch import SourceClient
from ..jobs.errors import IngestError, PermanentError
from ..jobs.notify import invalidate_debate_caches
from ..jobs.publish import DebateUpdate, NotOwner, publish_version
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..ops.background import cancel_and_wait
from . import store
from .models import LiveJobParams
from .resolve import resolve_live_source
from .source import LiveSource, SourceEnded, SourceSegment, SourceStalled

log = logging.getLogger(__name__)

CONTROL_SECONDS = 0.5
# FFmpeg writes a source segment's frames within milliseconds; this long without one, it is all in
FLUSH_QUIET = 0.1


class NothingRecorded(PermanentError):
    """The sitting ended before the source gave any audio."""


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
        self.debate_dir = self.settings.media_root / run.debate_id
        self.version = 0
        self.rendition: LiveRendition | None = None
        self.encoder: LiveEncoder | None = None
        self.announced = False
        self.resumed = False
        self.last_chapter = 0
        self.ended_reason = "stopped by an operator"
        self.started = time.monotonic()
        self.ts_wanted = asyncio.Event()
        self._flushes: dict[str, asyncio.TimerHandle] = {}
        self._listed: dict[str, list[object]] = {}  # open parts as last written, per rung

    @property
    def version_dir(self) -> Path:
        return self.debate_dir / f"v{self.version}"

    async def record(self) -> None:
        policy = FetchPolicy.from_settings(self.settings)
        await policy.check_url(self.request.source_url)
        client = SourceClient(policy, self.res.breakers, timeout=max(10.0, 4 * self.segment))
        try:
            self.playlist_url = await self._resolve_again(client)
            with packager_errors():
                await asyncio.to_thread(recover, self.debate_dir)
            with live_version(self.debate_dir) as (version, resumed):
                self.version = version
                if resumed:
                    await self._resume()
                try:
                    await self._record(client)
                    await self._finish()
                except BaseException as exc:
                    self._cancel_flushes()
                    if self.encoder is not None:
                        await self.encoder.stop()
                    # a worker stopping (or another attempt taking over) leaves the recording to be
                    # resumed; a failure withdraws it (an operator's cancel: the task does)
                    if not isinstance(exc, asyncio.CancelledError | NotOwner):
                        await asyncio.shield(run_blocking(restore_version, self.debate_dir, version))
                    raise
        finally:
            await client.close()

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

    async def _resume(self) -> None:
        """Go on with the recording an earlier attempt of this job left (its worker stopped or died)."""
        rendition = await asyncio.to_thread(
            resume_rendition,
            self.version_dir,
            self.ladder,
            part_seconds=self.part,
            segment_seconds=self.segment,
            window=self.settings.live_dvr_seconds,
        )
        if rendition is None:
            return  # nothing usable: recorded afresh in the same version
        self.rendition = rendition
        self.announced = self.resumed = True
        for chapter in await store.new_chapters(self.res.pool, self.run, 0):
            if rendition.chapters:
                rendition.chapters[-1] = replace(rendition.chapters[-1], end=chapter.start)
            rendition.chapters.append(chapter)
            self.last_chapter = chapter.index
        log.info(
            "live recording resumed",
            extra={"job_id": self.run.job_id, "version": self.version, "seconds": round(rendition.edge, 3)},
        )

    async def _record(self, client: SourceClient) -> None:
        source = LiveSource(
            client,
            self.playlist_url,
            poll_seconds=self.settings.live_source_poll_seconds,
            stall_seconds=self.settings.live_stall_seconds,
            outage_seconds=self.settings.live_outage_seconds,
        )
        feeder = asyncio.create_task(self._feed(source), name=f"live feeder {self.run.job_id}")
        ts = asyncio.create_task(self._ts_loop(), name=f"live TS remuxer {self.run.job_id}")
        try:
            while not feeder.done():
                await asyncio.wait([feeder, ts], timeout=CONTROL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                if ts.done():
                    ts.result()
                if await self._control():
                    break
            if feeder.done():
                feeder.result()  # the source's errors end the attempt
            await cancel_and_wait(feeder)
            await self._end_run()
            await cancel_and_wait(ts)  # the last segments are remuxed here, in order
            await self._ts_catch_up()
        finally:
            await cancel_and_wait(feeder)
            await cancel_and_wait(ts)
            self._cancel_flushes()
        if self.rendition is None or not self.rendition.playable():
            raise NothingRecorded("The live source gave no audio before the sitting ended.")

    # -- the source side ---------------------------------------------------------------------------

    async def _feed(self, source: LiveSource) -> None:
        async for item in source.items():
            if isinstance(item, SourceSegment):
                if self.encoder is not None and item.restart:
                    await self._end_run()
                if self.encoder is None:
                    await self._begin_run(item.pdt, source.input_format)
                assert self.encoder is not None
                await self.encoder.feed(item.data)
            elif isinstance(item, SourceStalled):
                log.warning("live source stalled", extra={"job_id": self.run.job_id, "seconds": item.since})
                await self._end_run()
            elif isinstance(item, SourceEnded):
                self.ended_reason = item.reason
                return
            if time.monotonic() - self.started > self.settings.live_max_seconds:
                self.ended_reason = "the longest recording allowed was reached"
                return

    async def _begin_run(self, pdt: datetime, input_format: str | None) -> None:
        if self.rendition is None:
            self.rendition = LiveRendition(
                self.version_dir,
                self.ladder,
                starts_at=pdt,
                part_seconds=self.part,
                segment_seconds=self.segment,
                window=self.settings.live_dvr_seconds,
            )
        gap = self.rendition.begin_run(pdt)
        if gap:
            log.warning("live source gap marked", extra={"job_id": self.run.job_id, "seconds": round(gap, 3)})
            self.rendition.write_playlists()
        self.encoder = LiveEncoder(
            self.res.ffmpeg,
            self.ladder,
            on_fragment=self._on_fragment,
            input_format=input_format,
        )
        await self.encoder.start()

    async def _end_run(self) -> None:
        encoder, self.encoder = self.encoder, None
        if self.rendition is None:
            return
        self._cancel_flushes()
        if encoder is not None:
            try:
                with packager_errors():
                    await encoder.finish()
            except Exception:
                # a run that cannot finish cleanly (garbage from the source): keep what was cut
                log.warning("live encoder run failed", extra={"job_id": self.run.job_id}, exc_info=True)
        # also after an interrupted earlier call: what was cut becomes a last (shorter) segment
        self.rendition.end_run()
        self.rendition.write_playlists()
        self.ts_wanted.set()

    async def _on_fragment(self, rung: Rung, init: bytes, data: bytes) -> None:
        rendition = self.rendition
        assert rendition is not None
        closed = rendition.add_fragment(rung.name, init, data)
        if closed or rendition.rungs[rung.name].playlist.open_parts != self._listed.get(rung.name):
            rendition.write_playlist(rung.name)
            self._listed[rung.name] = list(rendition.rungs[rung.name].playlist.open_parts)
        if closed:
            self.ts_wanted.set()
        # FFmpeg quiet for a moment: the source segment is all encoded, publish its last frames now
        previous = self._flushes.get(rung.name)
        if previous is not None:
            previous.cancel()
        self._flushes[rung.name] = asyncio.get_running_loop().call_later(FLUSH_QUIET, self._flush, rung.name)
        await self._maybe_announce()

    def _cancel_flushes(self) -> None:
        for handle in self._flushes.values():
            handle.cancel()
        self._flushes.clear()

    def _flush(self, name: str) -> None:
        self._flushes.pop(name, None)
        rendition = self.rendition
        if rendition is None or name not in rendition.rungs:
            return
        closed = rendition.flush_part(name)
        rendition.write_playlist(name)
        self._listed[name] = list(rendition.rungs[name].playlist.open_parts)
        if closed:
            self.ts_wanted.set()

    async def _ts_loop(self) -> None:
        while True:
            await self.ts_wanted.wait()
            self.ts_wanted.clear()
            await self._ts_catch_up()

    async def _ts_catch_up(self) -> None:
        """Remux the fMP4 twin's new segments into the TS rung (the TS playlist lags by that remux)."""
        rendition = self.rendition
        if rendition is None:
            return
        for name, twin in rendition.ts_twins().items():
            pending = rendition.ts_pending(name)
            for segment in pending:
                if not segment.gap:
                    target = rendition.rungs[name].directory / f"seg_{segment.number}.ts"
                    with packager_errors():
                        await remux_to_ts(
                            self.res.ffmpeg,
                            rendition.rungs[twin].init,
                            await asyncio.to_thread(
                                (rendition.rungs[twin].directory / segment.uri).read_bytes
                            ),
                            target,
                        )
                rendition.mirror_ts(name, segment)
            if pending:
                rendition.write_playlist(name)
                await self._maybe_announce()

    async def _maybe_announce(self) -> None:
        if not self.announced and self.rendition is not None and self.rendition.playable():
            self.announced = True
            await self._announce()

    async def _announce(self) -> None:
        rendition = self.rendition
        assert rendition is not None
        rendition.write_master()
        point_master(self.debate_dir, self.version)
        variants = [asdict(v) for v in rendition.variants(measured=False)]
        await store.announce_stream(self.res.pool, self.run, self.version, rendition.starts_at, variants)
        await invalidate_debate_caches(self.res.cache, self.run.debate_id)
        data = {
            "debate_id": self.run.debate_id,
            "master_url": self.res.master_url(self.run.debate_id),
            "starts_at": rendition.starts_at.isoformat(),
            "part_seconds": self.part,
            "segment_seconds": self.segment,
        }
        await self._publish("live.started", data)
        log.info("live stream playable", extra={"job_id": self.run.job_id, "version": self.version})

    async def _publish(self, type: str, data: dict[str, object]) -> None:
        try:
            await publish_live_event(self.res.notifier.bus, self.run.debate_id, type, data)
        except Exception:  # an event lost must not break the recording
            log.warning("live event not published", extra={"type": type}, exc_info=True)

    # -- the operator's side -----------------------------------------------------------------------

    async def _control(self) -> bool:
        """Apply new speakers; True when the recording must end (stop requested)."""
        control = await store.control(self.res.pool, self.run)
        if control.gone:
            raise NotOwner(f"live job {self.run.job_id} is no longer this attempt's")
        await self._speakers()
        return control.stop

    async def _speakers(self) -> None:
        rendition = self.rendition
        if rendition is None or not rendition.playable():
            return  # no timeline yet: chapters wait until there is one
        fresh = await store.new_chapters(self.res.pool, self.run, self.last_chapter)
        if not fresh:
            return
        for chapter in fresh:
            start = segment_start_at_or_after(rendition, chapter.start)
            previous = rendition.chapters[-1] if rendition.chapters else None
            if previous is not None and start <= previous.start:
                start = previous.start + rendition.segment_seconds  # two speakers never share a start
            aligned = replace(chapter, start=start)
            if previous is not None:
                rendition.chapters[-1] = replace(previous, end=max(previous.start, start))
            rendition.chapters.append(aligned)
            await store.align_chapter(self.res.pool, self.run, aligned, previous.index if previous else None)
            self.last_chapter = chapter.index
        rendition.write_playlists()

    # -- the end -------------------------------------------------------------------------------------

    async def _finish(self) -> None:
        rendition = self.rendition
        assert rendition is not None
        await self._speakers()
        chapters = await run_blocking(rendition.finish)
        with packager_errors():
            await finalize_rendition(
                self.version_dir,
                ffmpeg=self.res.ffmpeg,
                variants=rendition.variants(measured=True),
                chapters=chapters,
                download_parts=rendition.download_parts(),
                duration=rendition.duration,
                title=self.request.title,
            )
            await run_blocking(finish_version, self.debate_dir, self.version)
        await publish_version(
            self.res.pool,
            self.run,
            version=self.version,
            duration=rendition.duration,
            variants=rendition.variants(measured=True),
            chapters=chapters,
            speakers=[],
            debate=DebateUpdate(starts_at=rendition.starts_at),
        )
        await invalidate_debate_caches(self.res.cache, self.run.debate_id)
        master_url = self.res.master_url(self.run.debate_id)
        await self._publish(
            "live.ended",
            {"debate_id": self.run.debate_id, "reason": self.ended_reason, "duration": rendition.duration},
        )
        await self.res.notifier.succeeded(self.run.job_id, self.run.debate_id, self.version, master_url)
        await self.res.notifier.debate_published(
            self.run.debate_id, self.version, rendition.duration, master_url
        )

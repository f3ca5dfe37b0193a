"""A live sitting recorded into a debate's next version: the live counterpart of ``packager.vod.package``.

Source segments go in (:meth:`LiveRecorder.feed`); each FFmpeg run (encoder.py) gives fragments that
become parts and segments (rendition.py), published in LL-HLS playlists as they come, the TS rung
following its fMP4 twin (ts_rung.py). Callbacks say when the stream becomes playable and each part and
segment written. :meth:`LiveRecorder.finish` makes the recording a VOD version: the same
``finalize_rendition`` as VOD (chapters, master, download.m4a, validation), then marked complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packager.chapters import Chapter
from packager.finalize import finalize_rendition, write_chapter_files
from packager.ladder import Ladder
from packager.live.chapters import (
    live_chapter,
    place_chapters,
    published_chapters,
    restore_chapters,
    vod_chapters,
)
from packager.live.encoder import LiveEncoder
from packager.live.fragments import FragmentPublisher
from packager.live.playlist import LiveChapter
from packager.live.rendition import LiveRendition
from packager.live.resume import resume_rendition
from packager.live.rung import PartCallback, SegmentCallback
from packager.live.ts_rung import TsRemuxer, ts_pending, ts_twins
from packager.playlists import Variant
from packager.threads import run_blocking
from packager.versions import DEFAULT_KEEP, finish_version, live_version, point_master, restore_version

log = logging.getLogger(__name__)

# version, the sitting start (its first PROGRAM-DATE-TIME), nominal variants
PlayableCallback = Callable[[int, datetime, list[Variant]], Awaitable[None]]


@dataclass
class LiveRecording:
    """A finished recording, published as ``v{version}`` of its debate."""

    version: int
    version_dir: Path
    starts_at: datetime
    duration: float
    variants: list[Variant]  # measured
    chapters: list[Chapter]  # each on a segment start, running to the next one


class LiveRecorder:
    """Records into ``v{version}`` of ``debate_dir``; get one from :func:`record_live`."""

    def __init__(
        self,
        debate_dir: Path,
        version: int,
        ladder: Ladder,
        *,
        ffmpeg: str,
        part_seconds: float,
        segment_seconds: float,
        window: float = 0.0,
        on_playable: PlayableCallback | None = None,
        on_part: PartCallback | None = None,
        on_segment: SegmentCallback | None = None,
    ) -> None:
        self.debate_dir = debate_dir
        self.version = version
        self.ladder = ladder
        self.ffmpeg = ffmpeg
        self.part_seconds = part_seconds
        self.segment_seconds = segment_seconds
        self.window = window
        self.on_playable = on_playable
        self.on_part = on_part
        self.on_segment = on_segment
        self.rendition: LiveRendition | None = None
        self.resumed = False
        self._announced = False
        self._encoder: LiveEncoder | None = None
        self._ts = TsRemuxer(ffmpeg, on_mirrored=self._maybe_announce)
        self._fragments: FragmentPublisher | None = None

    @property
    def version_dir(self) -> Path:
        return self.debate_dir / f"v{self.version}"

    @property
    def starts_at(self) -> datetime | None:
        return self.rendition.starts_at if self.rendition is not None else None

    @property
    def edge(self) -> float:
        """Media time recorded so far (in the fastest rung)."""
        return self.rendition.edge if self.rendition is not None else 0.0

    def playable(self) -> bool:
        """Every rung has something to play (its first part or segment)."""
        return self.rendition is not None and self.rendition.playable()

    def nominal_variants(self) -> list[Variant]:
        """The variants of the live master (nominal bandwidths); needs a rendition."""
        assert self.rendition is not None
        return self.rendition.variants(measured=False)

    async def resume(self) -> bool:
        """Go on with the recording an earlier attempt left in this version; False if there is nothing
        usable (it is then recorded afresh in the same version). Its stream was announced already."""
        rendition = await asyncio.to_thread(
            resume_rendition,
            self.version_dir,
            self.ladder,
            part_seconds=self.part_seconds,
            segment_seconds=self.segment_seconds,
            window=self.window,
        )
        if rendition is None:
            return False
        self._adopt(rendition)
        self._announced = self.resumed = True
        return True

    def missing_segments(self, *, finishing: bool = False) -> list[Path]:
        """The segment files this recording reads again that are not on disk (blocking). Resumed from a
        store, the earlier attempt's segments are there only: the TS rungs' twins' segments they have yet
        to remux and the TS rungs' last ones (their continuity counters go on), or, ``finishing``, every
        one (the VOD version is made of them)."""
        rendition = self.rendition
        if rendition is None:
            return []
        if finishing:
            wanted = [(state.directory, s) for state in rendition.rungs.values() for s in state.segments]
        else:
            wanted = []
            for name, twin in ts_twins(rendition).items():
                state = rendition.rungs[name]
                wanted += [(state.directory, s) for s in [s for s in state.segments if not s.gap][-1:]]
                wanted += [(rendition.rungs[twin].directory, s) for s in ts_pending(rendition, name)]
        paths = (directory / segment.uri for directory, segment in wanted if not segment.gap)
        return [path for path in paths if not path.is_file()]

    def restore_chapters(self, chapters: Iterable[LiveChapter]) -> None:
        """After :meth:`resume`: the chapters the earlier attempt had placed, as the caller stored them."""
        assert self.rendition is not None
        restore_chapters(self.rendition, chapters)
        self._write_chapter_files()

    def _write_chapter_files(self) -> None:
        # the live master's SESSION-DATA points at chapters.json: it exists from the announce on, and
        # follows each speaker change (Shaka Player fails the load on a missing one)
        assert self.rendition is not None
        write_chapter_files(self.version_dir, published_chapters(self.rendition))

    def _adopt(self, rendition: LiveRendition) -> None:
        rendition.set_callbacks(self.on_part, self.on_segment)
        self.rendition = rendition
        self._fragments = FragmentPublisher(
            rendition, on_segment_closed=self._ts.wanted, after_fragment=self._maybe_announce
        )

    # -- source segments in ------------------------------------------------------------------------

    async def feed(
        self, data: bytes, *, pdt: datetime, input_format: str | None, restart: bool = False
    ) -> float:
        """One source segment, its first sample emitted at ``pdt``; a new FFmpeg run starts when none runs
        or on ``restart`` (the source restarted). Returns the seconds of gap marked before it, if any."""
        if self._encoder is not None and restart:
            await self.end_run()
        gap = 0.0
        if self._encoder is None:
            gap = await self._begin_run(pdt, input_format)
        assert self._encoder is not None
        await self._encoder.feed(data)
        return gap

    async def _begin_run(self, pdt: datetime, input_format: str | None) -> float:
        if self.rendition is None:
            self._adopt(
                LiveRendition(
                    self.version_dir,
                    self.ladder,
                    starts_at=pdt,
                    part_seconds=self.part_seconds,
                    segment_seconds=self.segment_seconds,
                    window=self.window,
                )
            )
        assert self.rendition is not None and self._fragments is not None
        self._ts.start(self.rendition)
        gap = self.rendition.begin_run(pdt)
        if gap:
            self.rendition.write_playlists()
        self._encoder = LiveEncoder(
            self.ffmpeg, self.ladder, on_fragment=self._fragments.fragment, input_format=input_format
        )
        await self._encoder.start()
        return gap

    async def end_run(self) -> None:
        """The source stalled or restarted: FFmpeg flushes, what was cut becomes a last (shorter) segment."""
        encoder, self._encoder = self._encoder, None
        if self.rendition is None:
            return
        self._cancel_flushes()
        if encoder is not None:
            try:
                await encoder.finish()
            except Exception:
                # a run that cannot finish cleanly (garbage from the source): keep what was cut
                log.warning("live encoder run failed", exc_info=True)
            # its last fragments came as it exited: what they cut is ended below, not by a timer that
            # would rewrite the playlists later (after the recording is finished, or its files gone)
            self._cancel_flushes()
        # also after an interrupted earlier call: what was cut becomes a last (shorter) segment
        self.rendition.end_run()
        self.rendition.write_playlists()
        self._ts.wanted()

    def raise_failure(self) -> None:
        """Raise what the TS remuxer failed with, if it did (the recording cannot go on)."""
        self._ts.raise_failure()

    async def end_input(self) -> None:
        """No more source: the last run ends, the TS rung catches up with its twin."""
        await self.end_run()
        await self._ts.stop()
        if self.rendition is not None:
            await self._ts.catch_up(self.rendition)

    async def abort(self) -> None:
        """Stop FFmpeg and the TS remuxer at once (cancellation, failure); the files stay as they are."""
        self._cancel_flushes()
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            await encoder.stop()
            self._cancel_flushes()
        await self._ts.stop()

    def _cancel_flushes(self) -> None:
        if self._fragments is not None:
            self._fragments.cancel_flushes()

    async def _maybe_announce(self) -> None:
        rendition = self.rendition
        if self._announced or rendition is None or not rendition.playable():
            return
        self._announced = True
        self._write_chapter_files()
        rendition.write_master()
        point_master(self.debate_dir, self.version)
        if self.on_playable is not None:
            await self.on_playable(self.version, rendition.starts_at, self.nominal_variants())

    # -- chapters and the end ----------------------------------------------------------------------

    def add_chapters(self, chapters: Sequence[LiveChapter]) -> list[tuple[LiveChapter, int | None]]:
        """New speakers, each placed on the next segment boundary not yet published, playlists rewritten;
        returns each chapter as placed with the index of the one it ended. Needs a playable stream."""
        rendition = self.rendition
        assert rendition is not None and rendition.playable()
        placed = place_chapters(rendition, chapters)
        rendition.write_playlists()
        self._write_chapter_files()
        return placed

    async def finish(self, *, title: str | None = None, keep: int = DEFAULT_KEEP) -> LiveRecording:
        """After :meth:`end_input`: the recording as a complete VOD version the debate master points at.
        Raises ValidationError (and the errors of FFmpeg) if it is not fit to publish."""
        rendition = self.rendition
        assert rendition is not None
        chapters = vod_chapters(rendition)
        await run_blocking(rendition.end, [live_chapter(chapter) for chapter in chapters])
        variants = rendition.variants(measured=True)
        await finalize_rendition(
            self.version_dir,
            ffmpeg=self.ffmpeg,
            variants=variants,
            chapters=chapters,
            download_parts=rendition.download_parts(),
            duration=rendition.duration,
            title=title,
        )
        await run_blocking(finish_version, self.debate_dir, self.version, keep)
        return LiveRecording(
            version=self.version,
            version_dir=self.version_dir,
            starts_at=rendition.starts_at,
            duration=rendition.duration,
            variants=variants,
            chapters=chapters,
        )


@contextlib.asynccontextmanager
async def record_live(
    debate_dir: Path,
    ladder: Ladder,
    *,
    ffmpeg: str,
    part_seconds: float,
    segment_seconds: float,
    window: float = 0.0,
    keep_on: tuple[type[BaseException], ...] = (asyncio.CancelledError,),
    on_playable: PlayableCallback | None = None,
    on_part: PartCallback | None = None,
    on_segment: SegmentCallback | None = None,
) -> AsyncIterator[LiveRecorder]:
    """A recorder for the debate's live version (the one an earlier attempt left: ``recorder.resumed``, or
    a new one), the debate locked meanwhile. On an exception FFmpeg is stopped and the version withdrawn,
    unless the exception is one of ``keep_on`` (a worker stopping leaves it to the next attempt)."""
    with live_version(debate_dir) as (version, resumed):
        recorder = LiveRecorder(
            debate_dir,
            version,
            ladder,
            ffmpeg=ffmpeg,
            part_seconds=part_seconds,
            segment_seconds=segment_seconds,
            window=window,
            on_playable=on_playable,
            on_part=on_part,
            on_segment=on_segment,
        )
        try:
            if resumed:
                await recorder.resume()
            yield recorder
        except BaseException as exc:
            await recorder.abort()
            if not isinstance(exc, keep_on):
                await asyncio.shield(run_blocking(restore_version, debate_dir, version))
            raise

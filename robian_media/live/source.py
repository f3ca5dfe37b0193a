"""Reading a live HLS source (e.g. the AN portal's ``live/live<n>/playlist<n>.m3u8``) segment by segment.

We fetch the source ourselves rather than letting FFmpeg's HLS demuxer do it: each segment's
PROGRAM-DATE-TIME is then known (our PROGRAM-DATE-TIME is the source's emission clock, which is what
edge delay is measured against), stalls and restarts of the source are seen and marked as gaps, and
every request goes through the ingest fetch policy (SSRF guard, allowlist, circuit breakers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import m3u8

from ..ingest.sources.http_fetch import SourceClient
from ..jobs.errors import IngestError, SourceNotFound, UnsupportedSource
from ..ops.background import raise_if_cancelling

log = logging.getLogger(__name__)

MAX_PLAYLIST_BYTES = 4 << 20
MAX_SEGMENT_BYTES = 64 << 20
# a source segment whose date jumps this far past the previous one's end follows an outage
_JUMP_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SourceSegment:
    data: bytes  # the init section first when it is new
    pdt: datetime  # when the source emitted its first sample
    duration: float
    restart: bool  # the source restarted or skipped ahead: a new encoder run (and maybe a gap)


@dataclass(frozen=True, slots=True)
class SourceStalled:
    """No new segment for the stall timeout: the current run should end (the gap is marked later)."""

    since: float  # seconds without a new segment


@dataclass(frozen=True, slots=True)
class SourceEnded:
    reason: str


SourceItem = SourceSegment | SourceStalled | SourceEnded


def _audio_playlist(master: m3u8.M3U8) -> str:
    """An audio-only rendition if the master has one, else the lightest variant (same audio, less video)."""
    for media in master.media:
        if media.type == "AUDIO" and media.uri:
            return str(media.absolute_uri)
    if not master.playlists:
        raise UnsupportedSource("The live source's master playlist lists no variant.")
    lightest = min(master.playlists, key=lambda p: p.stream_info.bandwidth or 0)
    return str(lightest.absolute_uri)


class LiveSource:
    def __init__(
        self,
        client: SourceClient,
        url: str,
        *,
        poll_seconds: float,
        stall_seconds: float,
        outage_seconds: float,
    ) -> None:
        self.client = client
        self.url = url
        self.poll_seconds = poll_seconds
        self.stall_seconds = stall_seconds
        self.outage_seconds = outage_seconds
        self.input_format: str | None = None
        self._init_uri: str | None = None
        self._init: bytes = b""
        self._last_seq: int | None = None
        self._last_end: datetime | None = None

    async def _playlist(self) -> m3u8.M3U8:
        text = await self.client.fetch(self.url, max_bytes=MAX_PLAYLIST_BYTES, what="live playlist")
        try:
            playlist = m3u8.loads(text.decode("utf-8", "replace"), uri=self.url)
        except Exception as exc:  # the m3u8 parser raises a variety of errors on garbage
            raise UnsupportedSource(f"The live source is not an HLS playlist: {exc}") from None
        if playlist.is_variant:
            self.url = _audio_playlist(playlist)
            return await self._playlist()
        if not playlist.segments and not playlist.is_endlist and playlist.target_duration is None:
            raise UnsupportedSource("The live source is not an HLS playlist.")
        return playlist

    async def _segment(self, segment: m3u8.Segment, restart: bool) -> bytes:
        data = await self.client.fetch(
            str(segment.absolute_uri), max_bytes=MAX_SEGMENT_BYTES, what="live segment"
        )
        init = segment.init_section
        if init is None:
            self.input_format = "mpegts"
            return data
        self.input_format = None
        if init.absolute_uri != self._init_uri or restart:
            if init.absolute_uri != self._init_uri:
                self._init = await self.client.fetch(
                    str(init.absolute_uri), max_bytes=MAX_SEGMENT_BYTES, what="live init segment"
                )
                self._init_uri = init.absolute_uri
            return self._init + data
        return data

    def _new_segments(self, playlist: m3u8.M3U8) -> list[tuple[int, m3u8.Segment, bool]]:
        """(sequence, segment, restart) of the segments not yet read; the live edge after a restart."""
        numbered = [(playlist.media_sequence + i, s) for i, s in enumerate(playlist.segments)]
        if not numbered:
            return []
        last_seq, last_end = self._last_seq, self._last_end
        if last_seq is None:
            return [(*numbered[-1], True)]  # join at the live edge
        newest_seq, newest = numbered[-1]
        newest_pdt = newest.current_program_date_time
        went_back = newest_seq < last_seq or (
            newest_seq == last_seq and newest_pdt is not None and last_end is not None
            and newest_pdt + timedelta(seconds=newest.duration) > last_end + timedelta(seconds=_JUMP_SECONDS)
        )  # fmt: skip
        if went_back:
            return [(newest_seq, newest, True)]
        fresh = [(seq, s) for seq, s in numbered if seq > last_seq]
        if not fresh:
            return []
        if fresh[0][0] > last_seq + 1:
            return [(*fresh[-1], True)]  # the source moved on without us: skip to its edge
        out = []
        for seq, segment in fresh:
            pdt = segment.current_program_date_time
            jumped = (
                pdt is not None and last_end is not None
                and abs((pdt - last_end).total_seconds()) > _JUMP_SECONDS
            )  # fmt: skip
            out.append((seq, segment, bool(jumped or segment.discontinuity)))
            last_end = pdt + timedelta(seconds=segment.duration) if pdt is not None else None
        return out

    async def items(self) -> AsyncIterator[SourceItem]:
        loop = asyncio.get_running_loop()
        last_new = loop.time()
        stalled = False
        while True:
            try:
                playlist = await self._playlist()
            except (SourceNotFound, UnsupportedSource):
                raise_if_cancelling()
                if self._last_seq is None:
                    raise
                playlist = None  # the source went away mid-sitting: an outage until it is back
            except IngestError as exc:
                raise_if_cancelling()
                log.info("live source unavailable", extra={"url": self.url, "error": exc.message})
                playlist = None
            if playlist is not None:
                for seq, segment, restart in self._new_segments(playlist):
                    try:
                        data = await self._segment(segment, restart)
                    except IngestError as exc:
                        raise_if_cancelling()
                        log.info("live segment lost", extra={"url": self.url, "error": exc.message})
                        continue
                    pdt = segment.current_program_date_time or (
                        datetime.now(UTC) - timedelta(seconds=segment.duration)
                    )
                    if pdt.tzinfo is None:
                        pdt = pdt.replace(tzinfo=UTC)
                    self._last_seq = seq
                    self._last_end = pdt + timedelta(seconds=segment.duration)
                    last_new = loop.time()
                    stalled = False
                    yield SourceSegment(data, pdt, float(segment.duration), restart)
                if playlist.is_endlist:
                    yield SourceEnded("the source playlist ended")
                    return
            quiet = loop.time() - last_new
            if self._last_seq is not None and not stalled and quiet > self.stall_seconds:
                stalled = True
                yield SourceStalled(quiet)
            if quiet > self.outage_seconds:
                yield SourceEnded(f"no new segment from the source for {quiet:.0f} s")
                return
            await asyncio.sleep(self.poll_seconds)

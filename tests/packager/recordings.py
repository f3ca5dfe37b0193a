"""Live recordings made for a test: 2 s source segments fed to the recorder as a live sitting brings them
(an outage included when asked), finished as the VOD version the sitting then serves."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import m3u8

from packager.ladder import Ladder
from packager.live.playlist import LiveChapter, LivePart, LiveSegment
from packager.live.recorder import record_live
from packager.playlists import Variant
from packager.synth import STARTS_AT
from packager.timeline import live_durations


async def record(
    debate_dir: Path, ladder: Ladder, ffmpeg: str, segments: list[bytes], *, outage_after: int | None = None
) -> tuple[dict[str, list[object]], float]:
    """Feed ``segments`` (2 s each), with a 10 s outage after ``outage_after`` of them; finish as VOD."""
    part, segment = live_durations(0.5, 2.0, [rung.sample_rate for rung in ladder.rungs])
    seen: dict[str, list[object]] = {"playable": [], "parts": [], "segments": []}

    async def playable(version: int, starts_at: object, variants: list[Variant]) -> None:
        seen["playable"].append((version, starts_at, [v.uri for v in variants]))

    def on_part(rung: str, written: LivePart) -> None:
        seen["parts"].append((rung, written.uri))

    def on_segment(rung: str, written: LiveSegment) -> None:
        seen["segments"].append((rung, written.uri))

    gaps = 0.0
    async with record_live(
        debate_dir,
        ladder,
        ffmpeg=ffmpeg,
        part_seconds=part,
        segment_seconds=segment,
        on_playable=playable,
        on_part=on_part,
        on_segment=on_segment,
    ) as recorder:
        pdt = STARTS_AT
        for i, data in enumerate(segments):
            gaps += await recorder.feed(data, pdt=pdt, input_format="mpegts")
            pdt += timedelta(seconds=2)
            if i + 1 == outage_after:
                await recorder.end_run()  # the source stalled
                pdt += timedelta(seconds=10)
            await asyncio.sleep(0.3)  # FFmpeg gets ahead of the next one, as with a real-time source
            if i == 1:
                async with asyncio.timeout(10):
                    while not recorder.playable():
                        await asyncio.sleep(0.05)
                recorder.add_chapters([LiveChapter(1, 0.0, None, "PA720", "Yaël Braun-Pivet")])
        await recorder.end_input()
        recording = await recorder.finish(title="Séance")
    seen["recording"] = [recording]
    return seen, gaps


def outage(rung_dir: Path) -> tuple[float, float]:
    """Where the first outage is: the start of its first GAP segment, and where the audio comes back (the
    start of the first segment after it, which opens a new run)."""
    segments = m3u8.load(str(rung_dir / "index.m3u8")).segments
    starts = list(itertools.accumulate((s.duration for s in segments), initial=0.0))
    first_gap = next(i for i, s in enumerate(segments) if s.gap_tag)
    return starts[first_gap], starts[next(i for i, s in enumerate(segments) if s.discontinuity)]

"""The live recorder as a library: source segments in, a playable LL-HLS version out as they come, then the
same finished VOD version a package() gives (chapters, master, download.m4a, validated) — outages included."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import m3u8

from packager.ladder import Ladder
from packager.live.recorder import record_live
from packager.synth import STARTS_AT
from packager.timeline import live_durations
from packager.versions import current_version, is_complete

from .recordings import record


async def test_a_recording_is_playable_as_it_comes_then_a_finished_version(
    tmp_path: Path, ffmpeg: str, small_ladder: Ladder, source_segments: list[bytes]
) -> None:
    seen, gaps = await record(tmp_path / "debate", small_ladder, ffmpeg, source_segments)
    assert gaps == 0.0
    assert [(version, uris) for version, _, uris in seen["playable"]] == [
        (1, ["a32/index.m3u8", "a64/index.m3u8", "ts64/index.m3u8"])
    ]
    assert {rung for rung, _ in seen["parts"]} == {"a32", "a64"}  # the TS rung has no parts
    written = seen["segments"]
    assert {rung for rung, _ in written} == {"a32", "a64", "ts64"}
    assert [uri for rung, uri in written if rung == "a32"] == [uri for rung, uri in written if rung == "a64"]

    (recording,) = seen["recording"]
    version_dir = tmp_path / "debate" / "v1"
    assert is_complete(tmp_path / "debate", 1) and current_version(tmp_path / "debate") == 1
    assert abs(recording.duration - 12.0) < 0.2
    assert [c.speaker.name for c in recording.chapters] == ["Yaël Braun-Pivet"]
    for name in ("chapters.json", "chapters.vtt", "download.m4a", "master.m3u8"):
        assert (version_dir / name).is_file(), name
    assert not list(version_dir.glob("*/part_*.m4s"))
    for rung in ("a32", "a64", "ts64"):
        playlist = m3u8.load(str(version_dir / rung / "index.m3u8"))
        assert playlist.is_endlist and playlist.playlist_type == "vod"


async def test_a_recording_with_an_outage_finishes_with_its_rungs_aligned(
    tmp_path: Path, ffmpeg: str, small_ladder: Ladder, source_segments: list[bytes]
) -> None:
    """Segment starts match across rungs within an AAC frame (as validation, in finish, requires): the
    new run after the gap starts at the same media time in every rung."""
    seen, gaps = await record(tmp_path / "debate", small_ladder, ffmpeg, source_segments, outage_after=3)
    assert 9.0 < gaps < 11.0
    (recording,) = seen["recording"]
    assert abs(recording.duration - 22.0) < 0.3
    starts = {}
    for rung in ("a32", "a64", "ts64"):
        playlist = m3u8.load(str(tmp_path / "debate" / "v1" / rung / "index.m3u8"))
        assert any(segment.gap_tag for segment in playlist.segments)
        total, starts[rung] = 0.0, []
        for segment in playlist.segments:
            starts[rung].append(total)
            total += segment.duration
    frame = 1024 / 24000
    assert len(starts["a32"]) == len(starts["a64"]) == len(starts["ts64"])
    for a32, a64, ts64 in zip(starts["a32"], starts["a64"], starts["ts64"], strict=True):
        assert abs(a32 - a64) <= frame and abs(a64 - ts64) < 1e-6


async def test_a_recording_resumed_from_playlists_one_rung_short_finishes_with_its_rungs_aligned(
    tmp_path: Path, ffmpeg: str, small_ladder: Ladder, source_segments: list[bytes]
) -> None:
    """An attempt that died between its rungs (the s3 store's upload puts one playlist after another)
    leaves a rung a segment short: the resumed recording fills it with a GAP, every rung keeps the same
    segments, and the finished version validates."""
    debate_dir = tmp_path / "debate"
    part, segment = live_durations(0.5, 2.0, [rung.sample_rate for rung in small_ladder.rungs])
    pdt = STARTS_AT
    try:
        async with record_live(
            debate_dir, small_ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment
        ) as recorder:
            for data in source_segments[:3]:
                await recorder.feed(data, pdt=pdt, input_format="mpegts")
                pdt += timedelta(seconds=2)
                await asyncio.sleep(0.3)
            async with asyncio.timeout(10):
                for rung in ("a32", "a64"):
                    while "seg_1.m4s" not in (debate_dir / "v1" / rung / "index.m3u8").read_text():
                        await asyncio.sleep(0.05)
            raise asyncio.CancelledError  # the worker goes: the recording is left to be resumed
    except asyncio.CancelledError:
        pass
    short = debate_dir / "v1" / "a64" / "index.m3u8"
    lines = short.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if line.startswith("#EXTINF"))
    short.write_text("\n".join(lines[:last]) + "\n")  # its last segment never went up

    async with record_live(
        debate_dir, small_ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment
    ) as recorder:
        assert recorder.resumed
        for data in source_segments[3:]:
            await recorder.feed(data, pdt=pdt + timedelta(seconds=4), input_format="mpegts")
            pdt += timedelta(seconds=2)
            await asyncio.sleep(0.3)
        await recorder.end_input()
        await recorder.finish()  # validation: the same segments in every rung, starts within a frame
    counts = {
        rung: len(m3u8.load(str(debate_dir / "v1" / rung / "index.m3u8")).segments)
        for rung in ("a32", "a64", "ts64")
    }
    assert len(set(counts.values())) == 1, counts


async def test_once_a_run_has_ended_nothing_rewrites_its_playlists(
    tmp_path: Path, ffmpeg: str, small_ladder: Ladder, source_segments: list[bytes]
) -> None:
    """FFmpeg's last fragments of a run arrive while it exits: none of them may leave a playlist write
    pending, which would land after the recording is finished (over a playlist already published, or
    in a working directory already removed)."""
    part, segment = live_durations(0.5, 2.0, [rung.sample_rate for rung in small_ladder.rungs])
    version_dir = tmp_path / "debate" / "v1"
    async with record_live(
        tmp_path / "debate", small_ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment
    ) as recorder:
        pdt = STARTS_AT
        for data in source_segments[:3]:
            await recorder.feed(data, pdt=pdt, input_format="mpegts")
            pdt += timedelta(seconds=2)
        await recorder.end_input()
        written = {rung: (version_dir / rung / "index.m3u8").stat().st_mtime_ns for rung in ("a32", "a64")}
        await asyncio.sleep(0.5)
        assert {rung: (version_dir / rung / "index.m3u8").stat().st_mtime_ns for rung in written} == written
        await recorder.finish(title="Séance")

"""A compte rendu attached later (DESIGN §8): the current version re-cut at new chapter starts with its
words, no encode — the same samples in every rung, a valid version, the old one untouched on failure."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from datetime import timedelta
from pathlib import Path

import m3u8
import pytest

from packager.chapters import ChapterError, ChapterIn, Speaker
from packager.cmaf import fragment_samples, fragments, read_track
from packager.ffmpeg import FFmpegError
from packager.ladder import Ladder
from packager.live.playlist import LiveChapter
from packager.live.recorder import record_live
from packager.recut import recut
from packager.synth import STARTS_AT, TEXT, Sitting
from packager.timeline import live_durations
from packager.transcript import TranscriptIn
from packager.validate import ValidationError, validate_version
from packager.versions import current_version
from packager.vod import PackageResult, package

from .conftest import decode_duration
from .recordings import outage, record
from .timestamps import continuity_breaks, fmp4_start, ts_first_pts


@pytest.fixture(scope="module")
def first(
    tmp_path_factory: pytest.TempPathFactory, sitting: Sitting, ffmpeg: str, small_ladder: Ladder
) -> PackageResult:
    """The sitting published without its compte rendu: one chapter, no words."""
    debate_dir = tmp_path_factory.mktemp("recut") / "debate"
    return asyncio.run(
        package(
            sitting.path,
            debate_dir,
            ladder=small_ladder,
            chapters=sitting.chapters[:1],
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
        )
    )


@pytest.fixture(scope="module")
def second(first: PackageResult, sitting: Sitting, ffmpeg: str, small_ladder: Ladder) -> PackageResult:
    words = [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in sitting.chapters]
    return asyncio.run(
        recut(
            first.debate_dir, ladder=small_ladder, chapters=sitting.chapters, transcript=words, ffmpeg=ffmpeg
        )
    )


def test_the_recut_version_has_the_same_samples_cut_at_the_new_chapters(
    first: PackageResult, second: PackageResult, sitting: Sitting
) -> None:
    assert (second.version, first.version) == (2, 1)
    assert (first.debate_dir / "master.m3u8").read_text().count("v2/") >= 3  # the switch happened
    for rung in ("a32", "a64"):
        ((old_start, old_entries, old_payload),) = run_samples(first.version_dir, rung)
        ((new_start, new_entries, new_payload),) = run_samples(second.version_dir, rung)
        assert new_start == old_start == 0  # the same timeline
        assert new_entries == old_entries  # sample count and durations unchanged
        assert new_payload == old_payload  # first, last and every sample byte-identical
        assert (second.version_dir / rung / "init.mp4").read_bytes() == (
            first.version_dir / rung / "init.mp4"
        ).read_bytes()
        starts, total = [], 0.0
        for segment in m3u8.load(str(second.version_dir / rung / "index.m3u8")).segments:
            starts.append(total)
            total += segment.duration
        for chapter in second.chapters:  # every new chapter starts a segment
            assert min(abs(chapter.start - s) for s in starts) < 0.05
    assert [c.speaker.name for c in second.chapters] == [c.speaker.name for c in sitting.chapters]
    assert (second.version_dir / "subs" / "index.m3u8").is_file()
    assert 'SUBTITLES="subs"' in (second.version_dir / "master.m3u8").read_text()


async def test_the_recut_version_plays_to_the_end(
    second: PackageResult, hls_server, ffmpeg: str, first: PackageResult
) -> None:  # type: ignore[no-untyped-def]
    base = await hls_server(second.debate_dir)
    played = await decode_duration(ffmpeg, f"{base}/v2/ts64/index.m3u8")
    assert played == pytest.approx(second.duration, abs=0.1)
    played = await decode_duration(ffmpeg, f"{base}/v2/a64/index.m3u8")
    assert played == pytest.approx(first.duration, abs=0.1)


def test_download_carries_the_new_chapters(second: PackageResult, ffmpeg: str) -> None:
    err = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(second.download)], capture_output=True, text=True
    ).stderr
    assert err.count("Chapter #") == len(second.chapters)


def test_a_bad_compte_rendu_leaves_the_published_version_untouched(
    second: PackageResult, ffmpeg: str, small_ladder: Ladder, sitting: Sitting
) -> None:
    master = (second.debate_dir / "master.m3u8").read_text()
    bad = [sitting.chapters[0], sitting.chapters[1].model_copy(update={"start": 999.0})]
    with pytest.raises(ChapterError, match="past the end"):
        asyncio.run(recut(second.debate_dir, ladder=small_ladder, chapters=bad, ffmpeg=ffmpeg))
    assert (second.debate_dir / "master.m3u8").read_text() == master
    assert not (second.debate_dir / "v3").exists()


def test_the_recut_ts_rung_keeps_its_counters_and_the_fmp4_timeline(second: PackageResult) -> None:
    # as at first packaging (#21): a demuxer reading the rung meets no discontinuity, and an ABR switch
    # between ts64 and a64 lands on the same media time
    directory = second.version_dir
    ts = m3u8.load(str(directory / "ts64" / "index.m3u8")).segments
    fmp4 = m3u8.load(str(directory / "a64" / "index.m3u8")).segments
    assert len(ts) == len(fmp4) > 3
    assert continuity_breaks([directory / "ts64" / s.uri for s in ts]) == 0
    for ts_segment, fmp4_segment in zip(ts, fmp4, strict=True):
        tfdt = fmp4_start(directory / "a64" / "init.mp4", directory / "a64" / fmp4_segment.uri)
        assert ts_first_pts(directory / "ts64" / ts_segment.uri) == pytest.approx(tfdt, abs=1e-4)


def test_a_remux_failing_beside_the_cuts_leaves_the_published_version_untouched(
    second: PackageResult, small_ladder: Ladder, sitting: Sitting
) -> None:
    # the TS and download remuxes run while the fMP4 rungs are cut: their failure stops everything and
    # the half-made version goes, as any other failure
    master = (second.debate_dir / "master.m3u8").read_text()
    with pytest.raises(FFmpegError):
        asyncio.run(recut(second.debate_dir, ladder=small_ladder, chapters=sitting.chapters, ffmpeg="false"))
    assert (second.debate_dir / "master.m3u8").read_text() == master
    assert sorted(p.name for p in second.debate_dir.glob("v*")) == ["v1", "v2"]


async def test_a_recorded_live_sitting_is_recut_in_its_2_s_segments(
    tmp_path: Path,
    ffmpeg: str,
    small_ladder: Ladder,
    source_segments: list[bytes],
    hls_server,  # type: ignore[no-untyped-def]
) -> None:
    debate_dir = tmp_path / "debate"
    seen, _ = await record(debate_dir, small_ladder, ffmpeg, source_segments)
    (recording,) = seen["recording"]
    result = await recut(
        debate_dir, ladder=small_ladder, chapters=LATER, transcript=later_words(), ffmpeg=ffmpeg
    )
    old, new = debate_dir / "v1", result.version_dir
    assert result.version == 2 and current_version(debate_dir) == 2
    for rung in ("a32", "a64"):
        assert run_samples(new, rung) == run_samples(old, rung)  # every sample, same durations
    for rung in ("a32", "a64", "ts64"):
        after = m3u8.load(str(new / rung / "index.m3u8"))
        assert after.target_duration == m3u8.load(str(old / rung / "index.m3u8")).target_duration == 2
        assert all(round(s.duration) <= 2 for s in after.segments)
        starts, total = [], 0.0
        for segment in after.segments:
            starts.append(total)
            total += segment.duration
        assert total == pytest.approx(recording.duration, abs=0.05)
        assert min(abs(s - result.chapters[1].start) for s in starts) < 0.05
    base = await hls_server(debate_dir)
    played = await decode_duration(ffmpeg, f"{base}/v2/a64/index.m3u8")
    assert played == pytest.approx(await decode_duration(ffmpeg, f"{base}/v1/a64/index.m3u8"), abs=0.05)


async def test_a_recording_with_an_outage_is_recut_run_by_run(
    tmp_path: Path,
    ffmpeg: str,
    small_ladder: Ladder,
    source_segments: list[bytes],
    hls_server,  # type: ignore[no-untyped-def]
) -> None:
    # 6 s of audio, a 10 s outage (GAP segments, then a discontinuity), 6 s more: each run is re-cut on
    # its own timeline, a chapter starting in the outage starts with the audio that follows it, and the
    # new version plays the same samples at the same times as the old one
    debate_dir = tmp_path / "debate"
    await record(debate_dir, small_ladder, ffmpeg, source_segments, outage_after=3)
    _, resumed_at = outage(debate_dir / "v1" / "a64")
    assert 15.0 < resumed_at < 17.0
    starts = {0.0: 0.0, 5.0: 5.0, 9.0: resumed_at, 19.0: 19.0}  # the compte rendu's → where it plays
    await _recut_run_by_run(debate_dir, small_ladder, ffmpeg, hls_server, starts)


async def test_a_recording_resumed_after_its_job_died_is_recut_run_by_run(
    tmp_path: Path,
    ffmpeg: str,
    small_ladder: Ladder,
    source_segments: list[bytes],
    hls_server,  # type: ignore[no-untyped-def]
) -> None:
    # the worker dies mid-recording (FFmpeg killed, the files left), another attempt resumes the same
    # version after a GAP segment and a discontinuity: re-cut the same way
    debate_dir = tmp_path / "debate"
    await record_with_a_crash(debate_dir, small_ladder, ffmpeg, source_segments, crash_after=3)
    _, resumed_at = outage(debate_dir / "v1" / "a64")
    assert resumed_at > 3.0
    # when the new FFmpeg's init segment differs, the recording names it on the run's first segment
    a32 = debate_dir / "v1" / "a32"
    (a32 / "init_2.mp4").write_bytes((a32 / "init.mp4").read_bytes())
    text = (a32 / "index.m3u8").read_text()
    (a32 / "index.m3u8").write_text(text.replace(_NEW_RUN, f'{_NEW_RUN}#EXT-X-MAP:URI="init_2.mp4"\n'))
    starts = {0.0: 0.0, 1.0: 1.0, resumed_at - 0.5: resumed_at, resumed_at + 3.0: resumed_at + 3.0}
    await _recut_run_by_run(debate_dir, small_ladder, ffmpeg, hls_server, starts)
    after = m3u8.load(str(debate_dir / "v2" / "a32" / "index.m3u8")).segments
    assert [s.init_section.uri for s in after if not s.gap_tag and s.discontinuity] == ["init_2.mp4"]
    assert (debate_dir / "v2" / "a32" / "init_2.mp4").is_file()


_NEW_RUN = "#EXT-X-DISCONTINUITY\n"


async def record_with_a_crash(
    debate_dir: Path, ladder: Ladder, ffmpeg: str, segments: list[bytes], *, crash_after: int
) -> None:
    """Feed ``segments`` (2 s each) to a recording whose job dies after ``crash_after`` of them; the next
    attempt resumes it with the rest and finishes it as VOD."""
    part, segment = live_durations(0.5, 2.0, [rung.sample_rate for rung in ladder.rungs])
    pdt = STARTS_AT
    with contextlib.suppress(asyncio.CancelledError):
        async with record_live(
            debate_dir, ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment
        ) as recorder:
            for data in segments[:crash_after]:
                await recorder.feed(data, pdt=pdt, input_format="mpegts")
                pdt += timedelta(seconds=2)
                await asyncio.sleep(0.3)
            raise asyncio.CancelledError  # the worker goes: the recording stays for the next attempt
    async with record_live(
        debate_dir, ladder, ffmpeg=ffmpeg, part_seconds=part, segment_seconds=segment
    ) as recorder:
        assert recorder.resumed
        for data in segments[crash_after:]:
            await recorder.feed(data, pdt=pdt, input_format="mpegts")
            pdt += timedelta(seconds=2)
            await asyncio.sleep(0.3)
        recorder.add_chapters([LiveChapter(1, 0.0, None, "PA720", "Yaël Braun-Pivet")])
        await recorder.end_input()
        await recorder.finish(title="Séance")


async def _recut_run_by_run(
    debate_dir: Path,
    ladder: Ladder,
    ffmpeg: str,
    hls_server,  # type: ignore[no-untyped-def]
    starts: dict[float, float],
) -> None:
    """Attach chapters (and words) starting at ``starts``' keys to the recording in v1: v2 must have
    them at its values, and every run's samples at the same times as v1, gaps and all."""
    names = ["Yaël Braun-Pivet", "Marc Fesneau", "Aurore Bergé", "Boris Vallaud"]
    chapters = [_chapter(start, f"PA{i}", names[i]) for i, start in enumerate(starts)]
    words = [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in chapters]
    result = await recut(debate_dir, ladder=ladder, chapters=chapters, transcript=words, ffmpeg=ffmpeg)
    old, new = debate_dir / "v1", result.version_dir
    assert result.version == 2 and current_version(debate_dir) == 2
    assert [c.speaker.name for c in result.chapters] == names
    for placed, wanted in zip(result.chapters, starts.values(), strict=True):
        assert placed.start == pytest.approx(wanted, abs=0.05)
    for rung in ("a32", "a64"):
        # per run: the same samples (count, durations, bytes) from the same decode time
        assert run_samples(new, rung) == run_samples(old, rung)
    for rung in ("a32", "a64", "ts64"):
        before = m3u8.load(str(old / rung / "index.m3u8"))
        after = m3u8.load(str(new / rung / "index.m3u8"))
        assert after.target_duration == before.target_duration == 2
        assert all(round(s.duration) <= 2 for s in after.segments)
        assert _gaps(after) == _gaps(before)  # the outage where it was
        assert sum(s.discontinuity for s in after.segments) == sum(s.discontinuity for s in before.segments)
        starts_after, total = [], 0.0
        for segment in after.segments:
            starts_after.append(total)
            total += segment.duration
        assert total == pytest.approx(sum(s.duration for s in before.segments), abs=1e-5)
        for chapter in result.chapters:
            assert min(abs(s - chapter.start) for s in starts_after) < 0.05
    ts = [s for s in m3u8.load(str(new / "ts64" / "index.m3u8")).segments if not s.gap_tag]
    fmp4 = [s for s in m3u8.load(str(new / "a64" / "index.m3u8")).segments if not s.gap_tag]
    assert len(ts) == len(fmp4) > len(starts)
    assert continuity_breaks([new / "ts64" / s.uri for s in ts]) == 0
    for ts_segment, fmp4_segment in zip(ts, fmp4, strict=True):  # the TS rung on the same timeline
        tfdt = fmp4_start(new / "a64" / "init.mp4", new / "a64" / fmp4_segment.uri)
        assert ts_first_pts(new / "ts64" / ts_segment.uri) == pytest.approx(tfdt, abs=1e-4)
    err = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(new / "download.m4a")], capture_output=True, text=True
    )
    assert err.stderr.count("Chapter #") == len(result.chapters)
    # the words' rendition has its discontinuities where the audio has them (a player matches segments
    # across renditions by discontinuity sequence), and FFmpeg reads it
    subs = m3u8.load(str(new / "subs" / "index.m3u8")).segments
    audio = m3u8.load(str(new / "a64" / "index.m3u8")).segments
    assert [s.discontinuity for s in subs] == [s.discontinuity for s in audio]
    read = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(new / "subs" / "index.m3u8"), "-f", "webvtt", "-"],
        capture_output=True,
        text=True,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.count(TEXT.split(".")[0][:30]) >= len(result.chapters)
    base = await hls_server(debate_dir)
    for rung in ("a64", "ts64"):
        played = await decode_duration(ffmpeg, f"{base}/v2/{rung}/index.m3u8")
        assert played == pytest.approx(
            await decode_duration(ffmpeg, f"{base}/v1/{rung}/index.m3u8"), abs=0.05
        )
    for rung in ("a64", "ts64"):  # what FFmpeg hears, gaps as silence where they are: the same
        assert heard(ffmpeg, new / rung) == heard(ffmpeg, old / rung) != b""
    # the validate step passes on it, and would not with a rung's or the words' discontinuities missing
    await validate_version(new, ffmpeg=ffmpeg, source_duration=total, chapters=result.chapters)
    for playlist, says in [
        (new / "ts64" / "index.m3u8", "ts64/index.m3u8: its discontinuities are not where a32"),
        (new / "subs" / "index.m3u8", "subs/index.m3u8: its discontinuities are not where the audio's"),
    ]:
        kept = playlist.read_text()
        playlist.write_text(kept.replace("#EXT-X-DISCONTINUITY\n", ""))
        with pytest.raises(ValidationError, match=says):
            await validate_version(new, ffmpeg=ffmpeg, source_duration=total, chapters=result.chapters)
        playlist.write_text(kept)
    # nor with the discontinuities gone from every rendition alike (they would still agree)
    playlists = {p: p.read_text() for p in new.glob("*/index.m3u8")}
    for playlist, kept in playlists.items():
        playlist.write_text(kept.replace("#EXT-X-DISCONTINUITY\n", ""))
    with pytest.raises(ValidationError, match="follows GAP segments without EXT-X-DISCONTINUITY"):
        await validate_version(new, ffmpeg=ffmpeg, source_duration=total, chapters=result.chapters)
    for playlist, kept in playlists.items():
        playlist.write_text(kept)


def heard(ffmpeg: str, rung_dir: Path) -> bytes:
    """A rung's playlist played by FFmpeg as 16-bit PCM on its timestamps (a gap becomes silence)."""
    return subprocess.run(
        [ffmpeg, "-v", "error", "-copyts", "-i", str(rung_dir / "index.m3u8"),
         "-af", "aresample=async=1:first_pts=0", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip


def _chapter(start: float, speaker_id: str, name: str) -> ChapterIn:
    return ChapterIn(start=start, speaker=Speaker(id=speaker_id, name=name))


def _gaps(playlist: m3u8.M3U8) -> list[tuple[float, float]]:
    """Where the GAP segments are: (start, duration) each, to a tenth of a millisecond."""
    found, total = [], 0.0
    for segment in playlist.segments:
        if segment.gap_tag:
            found.append((round(total, 4), round(segment.duration, 4)))
        total += segment.duration
    return found


def run_samples(version_dir: Path, rung: str) -> list[tuple[int, list[tuple[int, int]], bytes]]:
    """Each run of a rung: the decode time of its first sample, its samples and their bytes."""
    track = read_track((version_dir / rung / "init.mp4").read_bytes())
    found = []
    for run in _runs(version_dir / rung):
        pairs = [pair for s in run for pair in fragments((version_dir / rung / s.uri).read_bytes())]
        entries, payload = [], b""
        for _, pair in pairs:
            samples = fragment_samples(pair, track)
            entries += samples.entries
            payload += samples.payload
        found.append((pairs[0][0], entries, payload))
    return found


def _runs(rung_dir: Path) -> list[list[m3u8.Segment]]:
    runs: list[list[m3u8.Segment]] = []
    for segment in m3u8.load(str(rung_dir / "index.m3u8")).segments:
        if segment.gap_tag:
            continue
        if not runs or segment.discontinuity:
            runs.append([])
        runs[-1].append(segment)
    return runs


LATER = [
    ChapterIn(start=0.0, speaker=Speaker(id="PA720", name="Yaël Braun-Pivet")),
    ChapterIn(start=5.0, speaker=Speaker(id="PA1", name="Marc Fesneau")),
]


def later_words() -> list[TranscriptIn]:
    return [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in LATER]

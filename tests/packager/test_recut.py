"""A compte rendu attached later (DESIGN §8): the current version re-cut at new chapter starts with its
words, no encode — the same samples in every rung, a valid version, the old one untouched on failure."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import m3u8
import pytest

from packager.chapters import ChapterError
from packager.cmaf import read_track
from packager.ladder import Ladder
from packager.recut import _samples, recut
from packager.synth import STARTS_AT, TEXT, Sitting
from packager.transcript import TranscriptIn
from packager.vod import PackageResult, package

from .conftest import decode_duration


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


def rung_samples(version_dir: Path, rung: str) -> tuple[list[tuple[int, int]], bytes]:
    track = read_track((version_dir / rung / "init.mp4").read_bytes())
    return _samples(version_dir / rung, track)


def test_the_recut_version_has_the_same_samples_cut_at_the_new_chapters(
    first: PackageResult, second: PackageResult, sitting: Sitting
) -> None:
    assert (second.version, first.version) == (2, 1)
    assert (first.debate_dir / "master.m3u8").read_text().count("v2/") >= 3  # the switch happened
    for rung in ("a32", "a64"):
        old_entries, old_payload = rung_samples(first.version_dir, rung)
        new_entries, new_payload = rung_samples(second.version_dir, rung)
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

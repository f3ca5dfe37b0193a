"""Clips cut from the top rung: frame-exact ranges, no re-encode, chapters inside, tags, faststart."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from packager.clip import ClipError, write_clip
from packager.cmaf import boxes
from packager.rendition import Rendition

from .conftest import read_chapters

FRAME = 1024 / 48000  # one AAC frame of the 48 kHz top rung


def packet_hashes(ffmpeg: str, path: Path) -> list[str]:
    """The AAC packets of a file as FFmpeg reads them (stream copy: no decode, no encode)."""
    out = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def probe(ffmpeg: str, path: Path) -> str:
    return subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


async def test_a_clip_is_the_rungs_own_frames_with_the_chapters_inside(
    packaged: Rendition, ffmpeg: str, tmp_path: Path
) -> None:
    target = tmp_path / "clip.m4a"
    cut = await write_clip(
        ffmpeg,
        packaged.directory / "a128",
        target,
        start=5.0,
        end=20.0,
        chapters=packaged.chapters,
        title="Marine Le Pen — Projet de loi de finances",
        tags={"artist": "Marine Le Pen", "date": "2025-01-15"},
    )
    assert abs(cut.start - 5.0) <= FRAME / 2 and abs(cut.end - 20.0) <= FRAME / 2

    info = probe(ffmpeg, target)
    assert "Audio: aac" in info
    assert "artist          : Marine Le Pen" in info and "date            : 2025-01-15" in info
    # faststart: the moov comes before the media data
    kinds = [box.type for box in boxes(target.read_bytes())]
    assert kinds.index(b"moov") < kinds.index(b"mdat")

    # no re-encode: its packets are a run of the whole sitting's packets, byte for byte
    clip_packets = packet_hashes(ffmpeg, target)
    whole = packet_hashes(ffmpeg, packaged.directory / "download.m4a")
    first = whole.index(clip_packets[0])
    assert whole[first : first + len(clip_packets)] == clip_packets
    assert abs(len(clip_packets) * FRAME - 15.0) <= FRAME

    # the chapters overlapping 5–20 s, clamped to the clip and counted from its start
    chapters = read_chapters(ffmpeg, target)
    overlapping = [c for c in packaged.chapters if c.start < 20.0 and c.end > 5.0]
    assert [title for *_, title in chapters] == [c.label for c in overlapping]
    assert chapters[0][0] == 0.0 and abs(chapters[1][0] - (overlapping[1].start - cut.start)) < 0.002
    assert abs(chapters[-1][1] - cut.duration) < 0.002


async def test_a_range_outside_the_rung_is_refused(packaged: Rendition, ffmpeg: str, tmp_path: Path) -> None:
    with pytest.raises(ClipError):
        await write_clip(ffmpeg, packaged.directory / "a128", tmp_path / "c.m4a", start=500.0, end=510.0)
    with pytest.raises(ClipError):
        await write_clip(ffmpeg, packaged.directory / "a128", tmp_path / "c.m4a", start=3.0, end=3.0)
    assert not list(tmp_path.iterdir())

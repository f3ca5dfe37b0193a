"""The loudness measured in chunks side by side is the one a single FFmpeg pass measures."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest

from packager.loudness import LoudnessTarget, measure_loudness
from packager.synth import Sitting

from .conftest import measure_lufs


def loudnorm_input_i(ffmpeg: str, path: Path) -> float:
    """Integrated loudness as loudnorm's analysis pass measures it."""
    err = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "loudnorm=print_format=json",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(json.loads(re.search(r"\{[^{}]*\}", err).group(0))["input_i"])  # type: ignore[union-attr]


def sample_peak(ffmpeg: str, path: Path) -> float:
    err = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=sample",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    return float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", err)[-1])


@pytest.fixture(scope="module")
def loud_then_quiet(tmp_path_factory: pytest.TempPathFactory, long_sitting: Sitting, ffmpeg: str) -> Path:
    """The long sitting, then the same 20 dB quieter: the quiet half falls under the relative gate of the
    whole, but not under its own, so gating each chunk on its own would measure something else."""
    path = tmp_path_factory.mktemp("loudness") / "loud-then-quiet.m4a"
    graph = "[0:a]asplit[a][b];[b]volume=-20dB[q];[a][q]concat=n=2:v=0:a=1"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(long_sitting.path),
            "-filter_complex",
            graph,
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.mark.parametrize("processes", [2, 3])
def test_chunked_measurement_equals_one_ffmpeg_pass(
    loud_then_quiet: Path, long_sitting: Sitting, ffmpeg: str, processes: int
) -> None:
    duration = 2 * long_sitting.duration
    measured = asyncio.run(
        measure_loudness(ffmpeg, loud_then_quiet, duration, LoudnessTarget(), processes=processes)
    )
    assert not measured.sampled
    assert measured.integrated == pytest.approx(measure_lufs(ffmpeg, loud_then_quiet), abs=0.1)
    assert measured.integrated == pytest.approx(loudnorm_input_i(ffmpeg, loud_then_quiet), abs=0.1)
    assert measured.sample_peak == pytest.approx(sample_peak(ffmpeg, loud_then_quiet), abs=0.05)


def test_silence_measures_as_silence(tmp_path: Path, ffmpeg: str) -> None:
    path = tmp_path / "silence.m4a"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "70", str(path)],
        check=True,
    )
    measured = asyncio.run(measure_loudness(ffmpeg, path, 70.0, LoudnessTarget(), processes=2))
    assert measured.integrated <= -70.0
    assert measured.gain(LoudnessTarget()) == 0.0

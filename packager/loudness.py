"""EBU R128 loudness: measure once with `ebur128`, then apply a fixed gain (and a limiter if peaks need it).

A linear gain keeps the speech dynamics untouched, unlike single-pass `loudnorm`, and `ebur128` measures
several times faster than `loudnorm`'s analysis pass. Long sittings are measured on evenly spread windows
so that the first segments can be published within seconds.

A full measurement is split into consecutive chunks measured by one FFmpeg each, side by side (one per
core): each prints the loudness of its 400 ms blocks (every 100 ms), and the integrated loudness is gated
over all of them at once (ITU-R BS.1770-4), which is what a single pass computes.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from packager.ffmpeg import FFmpegError, run_all, run_ffmpeg

_INTEGRATED = re.compile(r"^\s*I:\s*(-?[\d.]+|-inf) LUFS")
_PEAK = re.compile(r"^\s*Peak:\s*(-?[\d.]+|-inf) dBFS")
# framelog=info: one line per 100 ms, "t: <end of the block>  TARGET:… M: <its 400 ms loudness> …"
_BLOCK = re.compile(r"\bt:\s*[\d.]+\s+TARGET:.*?\bM:\s*(-?[\d.]+|-inf|nan)")
_STEP = 0.1  # seconds between blocks
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = 10.0
_K_OFFSET = -0.691  # BS.1770: loudness = -0.691 + 10 log10(weighted mean square)
# Decoded before a chunk's first block: the block's 400 ms, and time for the AAC decoder (whose first frame
# after a seek lacks its overlap) and the K-weighting filter to settle.
_PREROLL_STEPS = 10
_METER = "ebur128=peak=sample"
_MIN_CHUNK = 30.0  # seconds: shorter chunks cost more in FFmpeg start-up than they save
_SILENT = -70.0
_MAX_GAIN = 20.0
# The limiter sees sample peaks; AAC encoding and inter-sample peaks add a little on top.
_PEAK_MARGIN = 0.5


class LoudnessTarget(BaseModel):
    integrated: float = Field(default=-16.0, ge=-40.0, le=-5.0, description="LUFS")
    true_peak: float = Field(default=-1.5, ge=-9.0, le=0.0, description="dBTP")
    enabled: bool = True
    # Sittings longer than this are measured on windows (`windows` × `window` seconds) instead of in full.
    full_scan_max: float = Field(default=900.0, ge=0.0)
    windows: int = Field(default=24, ge=2)
    window: float = Field(default=10.0, gt=1.0)


@dataclass(frozen=True)
class Loudness:
    integrated: float
    sample_peak: float
    sampled: bool

    def gain(self, target: LoudnessTarget) -> float:
        if self.integrated <= _SILENT:
            return 0.0
        return max(-_MAX_GAIN, min(_MAX_GAIN, target.integrated - self.integrated))


def _windows(duration: float, target: LoudnessTarget) -> list[tuple[float, float]]:
    step = duration / target.windows
    length = min(target.window, step)
    return [(max(0.0, step * (i + 0.5) - length / 2), length) for i in range(target.windows)]


def integrated_loudness(blocks: Iterable[float]) -> float:
    """Gated integrated loudness (LUFS) of 400 ms block loudnesses (BS.1770-4: absolute gate at -70 LUFS,
    relative gate 10 LU under the absolutely gated mean); -70 when no block passes."""
    audible = [(block, 10 ** ((block - _K_OFFSET) / 10)) for block in blocks if block > _ABSOLUTE_GATE]
    if not audible:
        return _ABSOLUTE_GATE
    mean = sum(power for _, power in audible) / len(audible)
    threshold = _K_OFFSET + 10 * math.log10(mean) - _RELATIVE_GATE
    gated = [power for block, power in audible if block > threshold]
    return _K_OFFSET + 10 * math.log10(sum(gated) / len(gated))


def _chunks(duration: float, count: int) -> list[tuple[int, int]]:
    """``count`` consecutive ranges of block ends, in steps of 100 ms: (first excluded, last included)."""
    steps = max(1, math.floor(duration / _STEP + 1e-6))
    edges = [round(steps * index / count) for index in range(count + 1)]
    return [(low, high) for low, high in itertools.pairwise(edges) if high > low]


def _parse(lines: list[str]) -> tuple[float, float]:
    integrated = peak = None
    for line in lines:
        if (found := _INTEGRATED.match(line)) is not None:
            integrated = found.group(1)
        elif (found := _PEAK.match(line)) is not None:
            peak = found.group(1)
    if integrated is None or peak is None:
        raise FFmpegError("ebur128 printed no summary", 0, lines)
    return float(integrated), float(peak)


async def measure_loudness(
    ffmpeg: str,
    source: Path,
    duration: float,
    target: LoudnessTarget,
    on_time: Callable[[float], None] | None = None,
    processes: int = 1,
) -> Loudness:
    """Integrated loudness and sample peak of the first audio stream: in full by up to ``processes``
    FFmpeg side by side, or on windows for sittings longer than ``target.full_scan_max``."""
    if duration <= target.full_scan_max:
        return await _measure_in_chunks(ffmpeg, source, duration, processes, on_time)
    # framelog=verbose keeps the per-100 ms lines out of the (info-level) output: 5.1 has no framelog=quiet.
    windows = _windows(duration, target)
    args: list[str] = []
    for start, length in windows:
        args += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(source)]
    inputs = "".join(f"[{i}:a:0]" for i in range(len(windows)))
    meter = f"{inputs}concat=n={len(windows)}:v=0:a=1,aresample=48000,{_METER}:framelog=verbose"
    run = await run_ffmpeg(
        ffmpeg, [*args, "-filter_complex", meter, "-f", "null", "-"], on_time=on_time, tail_lines=40
    )
    integrated, peak = _parse(run.stderr)
    return Loudness(integrated=integrated, sample_peak=peak, sampled=True)


async def _measure_in_chunks(
    ffmpeg: str,
    source: Path,
    duration: float,
    processes: int,
    on_time: Callable[[float], None] | None,
) -> Loudness:
    """The whole stream measured on consecutive chunks, one FFmpeg each, side by side; the blocks of all
    of them gated at once."""
    count = max(1, min(processes, math.floor(duration / _MIN_CHUNK)))
    chunks = _chunks(duration, count)
    positions = [0.0] * len(chunks)

    def report(index: int, seconds: float) -> None:
        positions[index] = seconds
        if on_time is not None:
            on_time(sum(positions))

    async def measure(index: int, low: int, high: float) -> tuple[list[float], float]:
        first = max(0, low - _PREROLL_STEPS)  # the block step the decode starts at
        args = ["-ss", f"{first * _STEP:.1f}"] if first > 0 else []
        if index == len(chunks) - 1:
            high = math.inf  # to the end of the stream, whatever the probed duration said
        else:
            args += ["-t", f"{(high - first + 0.5) * _STEP:.2f}"]
        args += ["-i", str(source), "-map", "0:a:0", "-af", f"aresample=48000,{_METER}:framelog=info"]
        run = await run_ffmpeg(
            ffmpeg,
            [*args, "-f", "null", "-"],
            on_time=functools.partial(report, index),
            tail_lines=None,  # every block line
        )
        values = [found.group(1) for line in run.stderr if (found := _BLOCK.search(line)) is not None]
        # the n-th line is the block ending n steps after the decode's start
        blocks = [float(value) for end, value in enumerate(values, first + 1) if low < end <= high]
        return blocks, _parse(run.stderr)[1]

    measured = await run_all([measure(index, *chunk) for index, chunk in enumerate(chunks)])
    blocks = [block for chunk_blocks, _ in measured for block in chunk_blocks]
    peak = max(chunk_peak for _, chunk_peak in measured)
    return Loudness(integrated=integrated_loudness(blocks), sample_peak=peak, sampled=False)


def loudness_filter(measured: Loudness | None, target: LoudnessTarget) -> str | None:
    """The filter chain that brings the source to the target, or None when nothing is to be done."""
    if measured is None or not target.enabled:
        return None
    gain = measured.gain(target)
    ceiling = target.true_peak - _PEAK_MARGIN
    parts = [f"volume={gain:.2f}dB"] if abs(gain) >= 0.05 else []
    # A sampled measurement has not seen every peak, so the limiter stays on for it.
    if measured.sampled or measured.sample_peak + gain > ceiling:
        limit = 10 ** (ceiling / 20)
        parts.append(f"alimiter=limit={limit:.4f}:level=disabled:attack=5:release=50:latency=1")
    return ",".join(parts) or None

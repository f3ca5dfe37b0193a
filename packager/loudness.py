"""EBU R128 loudness: measure once with `ebur128`, then apply a fixed gain (and a limiter if peaks need it).

A linear gain keeps the speech dynamics untouched, unlike single-pass `loudnorm`, and `ebur128` measures
several times faster than `loudnorm`'s analysis pass. Long sittings are measured on evenly spread windows
so that the first segments can be published within seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from packager.ffmpeg import FFmpegError, run_ffmpeg

_INTEGRATED = re.compile(r"^\s*I:\s*(-?[\d.]+|-inf) LUFS")
_PEAK = re.compile(r"^\s*Peak:\s*(-?[\d.]+|-inf) dBFS")
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
) -> Loudness:
    """Integrated loudness and sample peak of the first audio stream."""
    # framelog=verbose keeps the per-100 ms lines out of the (info-level) output: 5.1 has no framelog=quiet.
    meter = "aresample=48000,ebur128=framelog=verbose:peak=sample"
    sampled = duration > target.full_scan_max
    if sampled:
        windows = _windows(duration, target)
        args: list[str] = []
        for start, length in windows:
            args += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(source)]
        inputs = "".join(f"[{i}:a:0]" for i in range(len(windows)))
        args += ["-filter_complex", f"{inputs}concat=n={len(windows)}:v=0:a=1,{meter}"]
    else:
        args = ["-i", str(source), "-map", "0:a:0", "-af", meter]
    run = await run_ffmpeg(ffmpeg, [*args, "-f", "null", "-"], on_time=on_time, tail_lines=40)
    integrated, peak = _parse(run.stderr)
    return Loudness(integrated=integrated, sample_peak=peak, sampled=sampled)


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

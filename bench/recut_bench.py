"""Attaching a compte rendu (DESIGN §8) next to the sitting's first packaging, side by side in one run.

    .venv/bin/python bench/recut_bench.py [--minutes 60] [--ladder speech]

A synthesised sitting of ``--minutes`` (espeak-ng voices, packager/synth.py) is packaged as a debate's
first version with one chapter (``packager.vod.package``: loudness, every rung, download.m4a,
validation), then a compte rendu's worth of chapters (one per speaker turn) and words (a paragraph
per turn) is attached with ``packager.recut.recut`` — the re-cut version, no encode. Prints both wall
times and the ratio. Goal (issue #17): the re-cut publish ≤ 5 % of the first packaging.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from packager.ffmpeg import default_ffmpeg  # noqa: E402
from packager.recut import recut  # noqa: E402
from packager.synth import STARTS_AT, TEXT, make_sitting  # noqa: E402
from packager.transcript import TranscriptIn  # noqa: E402
from packager.vod import PackageResult, package  # noqa: E402

CLIP_SECONDS = 9.2  # one speaker turn of the synthesised sitting


async def run(minutes: float, ladder: str, work: Path) -> tuple[float, float, PackageResult]:
    ffmpeg = default_ffmpeg()
    repeat = max(1, round(minutes * 60 / (4 * CLIP_SECONDS)))
    sitting = await asyncio.to_thread(make_sitting, work / "sitting", ffmpeg, repeat)
    debate = work / "debate"
    began = time.monotonic()
    await package(
        sitting.path, debate, ladder=ladder, chapters=sitting.chapters[:1], starts_at=STARTS_AT, ffmpeg=ffmpeg
    )
    packaging = time.monotonic() - began
    words = [TranscriptIn(start=c.start, speaker=c.speaker, text=TEXT) for c in sitting.chapters]
    began = time.monotonic()
    result = await recut(debate, ladder=ladder, chapters=sitting.chapters, transcript=words, ffmpeg=ffmpeg)
    attaching = time.monotonic() - began
    return packaging, attaching, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--ladder", default="speech")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recut-bench-") as work:
        packaging, attaching, result = asyncio.run(run(args.minutes, args.ladder, Path(work)))
    print(f"{args.minutes:.0f} min sitting, ladder {args.ladder}, {len(result.chapters)} chapters")
    print(f"first packaging      {packaging:8.1f} s")
    print(f"compte rendu re-cut  {attaching:8.1f} s")
    # the wait in each stage (the remuxes and the pauses' decode run beside the fMP4 cuts: what is left)
    print("  " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings.items()))
    ratio = attaching / packaging
    print(f"re-cut/packaging: {ratio:.1%} (goal ≤ 5 %: {'met' if ratio <= 0.05 else 'NOT met'})")


if __name__ == "__main__":
    main()

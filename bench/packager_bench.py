"""Packager benchmark (not a test): wall time side by side with plain FFmpeg, in one run.

    python bench/packager_bench.py [--minutes 10] [--skip-hour] [--skip-fast]

Synthesises speech (espeak-ng voices, looped) into a temp dir, then measures:
  - the CPU time of each rung encoded alone (FFmpeg 9 and 5.1): limit = sum / cores;
  - FFmpeg 5.1 and FFmpeg 9 encoding the whole ladder in one process (asplit);
  - our packager (all stages: loudness, 5 rungs, playlists, download.m4a, validation) with FFmpeg 9 and 5.1;
  - the `fast` AAC coder ladder (speech-fast) for the speed/quality trade;
  - time-to-first-playable on a 1-hour source (debate master + a segment of every rung visible);
  - peak RSS of this Python process.
Ratios compare runs made on the same machine in the same invocation; absolute times vary with its load.
The packager's CPU is printed with its own Python share and the cores it kept busy (CPU / wall).

Issue #20's figure is `--minutes 10 --skip-hour --skip-fast`, "vs 2-core limit of its FFmpeg" for
FFmpeg 9: 1.57x on a quiet machine before the loudness was measured in chunks on every core and the
encodes given CPU shares in proportion to their work (bench/README.md has the figures since).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from packager.ffmpeg import default_ffmpeg
from packager.ladder import Ladder, load_ladder
from packager.rendition import build_rendition
from packager.vod import package

TEXT = (
    "Monsieur le président, mes chers collègues, la séance est ouverte. Nous examinons aujourd'hui "
    "le projet de loi de finances pour l'année prochaine. L'article premier fixe les conditions générales "
    "de l'équilibre financier, et je donne la parole au rapporteur général de la commission des finances."
)
VOICES = ["fr", "fr+f3", "fr-BE", "fr-CH+m3"]
CORES = os.cpu_count() or 1


def synthesise(work: Path, ffmpeg: str, minutes: float) -> Path:
    """Four espeak-ng voices one after the other, looped to `minutes`, as stereo 48 kHz AAC."""
    clips = []
    for index, voice in enumerate(VOICES):
        clip = work / f"voice{index}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(clip), TEXT], check=True)
        clips.append(clip)
    base = work / "base.wav"
    inputs = [arg for clip in clips for arg in ("-i", str(clip))]
    graph = "".join(f"[{i}:a]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=0:a=1,aresample=48000"
    run = [ffmpeg, "-v", "error", "-y"]
    subprocess.run([*run, *inputs, "-filter_complex", graph, "-ac", "2", str(base)], check=True)
    source = work / f"speech-{minutes:g}min.m4a"
    loop = ["-stream_loop", "-1", "-i", str(base), "-t", str(minutes * 60)]
    subprocess.run([*run, *loop, "-c:a", "aac", "-b:a", "160k", str(source)], check=True)
    return source


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def rung_args(ladder: Ladder, index: int) -> list[str]:
    rung = ladder.fmp4_rungs[index]
    encoder = ["-c:a", "aac", "-aac_coder", ladder.aac_coder, "-b:a", str(rung.bitrate)]
    return [*encoder, "-ac", str(rung.channels), "-ar", str(rung.sample_rate)]


def single_rung_cpu(ffmpeg: str, source: Path, ladder: Ladder) -> list[float]:
    cpu = []
    for index in range(len(ladder.fmp4_rungs)):
        argv = [ffmpeg, "-v", "error", "-i", str(source), *rung_args(ladder, index), "-f", "null", "-"]
        _, used = timed(argv)
        cpu.append(used)
    return cpu


def one_process_asplit(ffmpeg: str, source: Path, ladder: Ladder) -> float:
    count = len(ladder.fmp4_rungs)
    labels = "".join(f"[o{i}]" for i in range(count))
    argv = [ffmpeg, "-v", "error", "-i", str(source), "-filter_complex", f"[0:a]asplit={count}{labels}"]
    for index in range(count):
        argv += ["-map", f"[o{index}]", *rung_args(ladder, index), "-f", "null", "-"]
    return timed(argv)[0]


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def packager_run(ffmpeg: str, source: Path, work: Path, ladder: str) -> tuple[float, float, dict[str, float]]:
    """(wall, CPU of this process and its FFmpeg children, stage timings) of one packaging; the timings
    get this Python process's own CPU as `python_cpu`."""
    outdir = work / f"out-{Path(ffmpeg).name}-{ladder}"
    shutil.rmtree(outdir, ignore_errors=True)
    # what earlier runs wrote or deleted reaches the disk now, not during this run's first writes (its
    # probing stage took 2-3 s of such write-back in some runs where `ffmpeg -i` alone takes 0.2 s)
    os.sync()
    own, children, started = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.monotonic()
    rendition = asyncio.run(build_rendition(source, outdir, ladder=ladder, ffmpeg=ffmpeg))
    wall = time.monotonic() - started
    own, children = _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - children
    shutil.rmtree(outdir, ignore_errors=True)
    return wall, own + children, {**rendition.timings, "python_cpu": own}


async def first_playable(ffmpeg: str, source: Path, work: Path) -> tuple[float, int]:
    """Seconds until the debate master and a segment of every rung exist, for a 1-hour source."""
    debate = work / "debate-hour"
    shutil.rmtree(debate, ignore_errors=True)
    ladder = load_ladder("speech")
    started = time.monotonic()
    job = asyncio.ensure_future(package(source, debate, ladder=ladder, ffmpeg=ffmpeg))
    try:
        while not (debate / "master.m3u8").exists():
            if job.done():
                job.result()
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        segments = sum(1 for rung in ladder.rungs if any((debate / "v1" / rung.name).glob("seg_0.*")))
        return elapsed, segments
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
        shutil.rmtree(debate, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--skip-hour", action="store_true")
    parser.add_argument("--skip-fast", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="best of N wall times")
    args = parser.parse_args()
    ff9 = default_ffmpeg()
    ff51 = shutil.which("ffmpeg", path="/usr/bin") or ff9
    ladder = load_ladder("speech")
    seconds = args.minutes * 60
    print(f"cores={CORES} load={os.getloadavg()[0]:.2f} ffmpeg9={ff9} ffmpeg5.1={ff51}")
    print(f"ladder speech: {', '.join(r.name for r in ladder.rungs)}; aac_coder={ladder.aac_coder}")
    with tempfile.TemporaryDirectory(prefix="packager-bench-") as tmp:
        work = Path(tmp)
        source = synthesise(work, ff9, args.minutes)
        print(f"source: {seconds:.0f} s of synthesised speech")

        cpu9 = single_rung_cpu(ff9, source, ladder)
        cpu51 = single_rung_cpu(ff51, source, ladder)
        limit9, limit51 = sum(cpu9) / CORES, sum(cpu51) / CORES
        names = [r.name for r in ladder.fmp4_rungs]
        for label, cpu in (("FFmpeg 9:  ", cpu9), ("FFmpeg 5.1:", cpu51)):
            rungs = "  ".join(f"{n}={c:.1f}" for n, c in zip(names, cpu, strict=True))
            print(f"single-rung encode CPU s, {label} {rungs}")
        print(f"2-core limit (sum/cores): FFmpeg 9 {limit9:.1f} s, FFmpeg 5.1 {limit51:.1f} s")

        # Interleaved rounds, best of N each: on a shared machine the load drifts between runs.
        walls: dict[str, list[float]] = {"asplit51": [], "asplit9": []}
        packs: dict[str, list[tuple[float, float, dict[str, float]]]] = {"ours9": [], "ours51": []}
        for _ in range(args.repeat):
            walls["asplit51"].append(one_process_asplit(ff51, source, ladder))
            packs["ours9"].append(packager_run(ff9, source, work, "speech"))
            walls["asplit9"].append(one_process_asplit(ff9, source, ladder))
            packs["ours51"].append(packager_run(ff51, source, work, "speech"))
        asplit51, asplit9 = min(walls["asplit51"]), min(walls["asplit9"])
        print(f"one process asplit -> null: FFmpeg 5.1 {asplit51:.1f} s, FFmpeg 9 {asplit9:.1f} s")
        ours9, used9, timings9 = min(packs["ours9"], key=lambda run: run[0])
        ours51, used51, timings51 = min(packs["ours51"], key=lambda run: run[0])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        runs = (
            ("FFmpeg 9", ours9, used9, cpu9, timings9, limit9),
            ("FFmpeg 5.1", ours51, used51, cpu51, timings51, limit51),
        )
        for label, wall, used, rung_cpu, timings, limit in runs:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if k not in ("total", "python_cpu"))
            print(f"packager ({label}): {wall:.1f} s wall = {seconds / wall:.1f}x realtime [{stages}]")
            # CPU is what load on a shared machine distorts least: all work / the single-rung encodes.
            print(
                f"  CPU {used:.1f} s = {used / sum(rung_cpu):.2f}x the single-rung encodes' CPU "
                f"(of which Python {timings['python_cpu']:.1f} s); {used / wall:.2f} cores busy; "
                f"{used / CORES:.1f} s if spread evenly over {CORES} cores"
            )
            print(
                f"  vs FFmpeg 5.1 one-process asplit: {wall / asplit51:.2f}x its time "
                f"({asplit51 / wall:.2f}x faster)"
            )
            print(f"  vs 2-core limit of its FFmpeg:    {wall / limit:.2f}x the limit")
        if not args.skip_fast:
            fast, _, _ = packager_run(ff9, source, work, "speech-fast")
            print(
                f"packager speech-fast (aac_coder=fast, FFmpeg 9): {fast:.1f} s = "
                f"{seconds / fast:.1f}x realtime, {ours9 / fast:.2f}x faster than twoloop"
            )
        if not args.skip_hour:
            hour = work / "speech-60min.m4a"
            loops = str(max(0, round(60 / args.minutes) - 1))
            subprocess.run(
                [ff9, "-v", "error", "-y", "-stream_loop", loops, "-i", str(source), "-c", "copy", str(hour)],
                check=True,
            )
            ttfp, rungs = asyncio.run(first_playable(ff9, hour, work))
            print(
                f"time to first playable, 1-hour source: {ttfp:.2f} s "
                f"({rungs}/{len(ladder.rungs)} rungs had seg_0)"
            )
        rss = max(rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(f"peak RSS of this Python process: {rss:.0f} MB; load now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

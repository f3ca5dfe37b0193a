"""How the ladder's encodes are spread over FFmpeg processes, and at which priority they run."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

from packager.encode import encode_processes, group_encodings, plan_encodings
from packager.ladder import load_ladder
from packager.rendition import build_rendition
from packager.synth import Sitting


def test_the_stereo_rung_has_a_core_to_itself_on_two_cores() -> None:
    """It costs about as much as the three mono rungs together: anything beside it leaves the other core
    idle at the end (FFmpeg 5.1 runs a process's encoders one after the other)."""
    groups = group_encodings(plan_encodings(load_ladder("speech")), 2)
    names = sorted(sorted(rung.name for encoding in group for rung in encoding.rungs) for group in groups)
    assert names == [["a128"], ["a32", "a64", "a96", "ts64"]]


def test_a_threaded_ffmpeg_gets_one_process_per_encode() -> None:
    assert encode_processes(9) is None
    assert encode_processes(9, processes=3) == 3
    assert encode_processes(5) is not None and encode_processes(5) >= 1


def _encoders_in(directory: Path) -> dict[str, int]:
    """Niceness of each running FFmpeg encoding into ``directory``, by the rungs its command line writes."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not (proc / "cwd").resolve().is_relative_to(directory):
                continue
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if not any(b"ffmpeg" in Path(arg.decode()).name.encode() for arg in argv if arg):
            continue
        rungs = sorted(set(re.findall(r"([a-z][a-z0-9_-]*)/\.raw/seg_", b" ".join(argv).decode())))
        niceness = int(stat.rsplit(")", 1)[1].split()[16])
        found[",".join(rungs)] = niceness
    return found


async def test_each_encode_gets_a_cpu_share_in_proportion_to_its_work(
    tmp_path: Path, long_sitting: Sitting, ffmpeg: str
) -> None:
    """The stereo rung is the critical path: the mono rungs' FFmpeg yield it the CPU it needs to finish
    with them."""
    outdir = tmp_path / "v1"
    job = asyncio.ensure_future(build_rendition(long_sitting.path, outdir, ladder="speech", ffmpeg=ffmpeg))
    try:
        seen: dict[str, int] = {}
        for _ in range(600):
            seen.update(_encoders_in(outdir))
            if len(seen) == 4 or job.done():
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    # CPU shares 1 : 1/1.25^4 : 1/1.25^5, in proportion to the encodes' costs 2.5 : 1 : 0.85
    assert seen == {"a128": 0, "a64,ts64": 4, "a96": 4, "a32": 5}

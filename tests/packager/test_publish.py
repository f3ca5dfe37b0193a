"""Versioned publication: progressive start, atomic switch, cancellation, crash recovery, retention."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import m3u8
import pytest

from packager.ffmpeg import MediaError
from packager.ladder import Ladder
from packager.versions import DebateBusyError, current_version, recover, versions
from packager.vod import package

from .conftest import STARTS_AT, Sitting

SYSTEM_FFMPEG = shutil.which("ffmpeg", path="/usr/bin")


def ffmpeg_children_of(path: Path) -> list[int]:
    """FFmpeg processes still working inside `path` (none should survive their packager)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ffmpeg" in cmdline and cwd.startswith(str(path)):
            found.append(int(pid))
    return found


def top_master_variants(debate: Path) -> list[str]:
    return [p.uri for p in m3u8.load(str(debate / "master.m3u8")).playlists]


async def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_first_version_is_playable_while_it_is_being_packaged(
    tmp_path: Path, long_sitting: Sitting, small_ladder: Ladder, ffmpeg: str
) -> None:
    debate = tmp_path / "debate-1"
    progress: list[tuple[str, float]] = []
    job = asyncio.ensure_future(
        package(
            long_sitting.path,
            debate,
            ladder=small_ladder,
            chapters=long_sitting.chapters,
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
            on_progress=lambda s, f: progress.append((s, f)),
        )
    )
    await wait_for(lambda: (debate / "master.m3u8").exists() or job.done())
    assert not job.done(), "the master should appear before the job ends"
    uris = top_master_variants(debate)
    assert all(uri.startswith("v1/") for uri in uris)
    playlist = m3u8.load(str(debate / uris[0]))
    assert playlist.playlist_type == "event" and not playlist.is_endlist
    assert len(playlist.segments) >= 1
    assert (debate / uris[0]).parent.joinpath(playlist.segments[0].uri).is_file()
    with pytest.raises(DebateBusyError):
        recover(debate)

    result = await job
    assert result.version == 1 and current_version(debate) == 1
    stages = [stage for stage, _ in progress]
    assert sorted(set(stages), key=stages.index) == ["probing", "measuring", "encoding", "finalizing"]
    fractions = [f for _, f in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 10
    assert (debate / "v1" / ".complete").is_file()
    final = m3u8.load(str(debate / "v1" / "a64" / "index.m3u8"))
    assert final.playlist_type == "vod" and final.is_endlist
    assert result.master.read_text().count("v1/") == len(result.variants) + 1  # + chapters.json
    assert result.download.is_file() and result.chapters_json.is_file()
    assert [v.uri for v in result.variants] == [u.removeprefix("v1/") for u in top_master_variants(debate)]


@pytest.mark.skipif(SYSTEM_FFMPEG is None, reason="needs Debian's FFmpeg 5.1")
async def test_new_versions_switch_atomically_and_old_ones_retire(
    tmp_path: Path, sitting: Sitting, small_ladder: Ladder
) -> None:
    """Runs on the system FFmpeg 5.1, the other supported binary."""
    assert SYSTEM_FFMPEG is not None
    debate = tmp_path / "debate-2"
    seen_during_v2: set[int | None] = set()

    def watch(stage: str, _fraction: float) -> None:
        if stage == "encoding":
            seen_during_v2.add(current_version(debate))

    first = await package(
        sitting.path, debate, ladder=small_ladder, chapters=sitting.chapters, ffmpeg=SYSTEM_FFMPEG
    )
    second = await package(
        sitting.path, debate, ladder=small_ladder, ffmpeg=SYSTEM_FFMPEG, on_progress=watch, keep=1
    )
    assert (first.version, second.version) == (1, 2)
    assert seen_during_v2 == {1}, "the debate master must keep serving v1 until v2 is complete"
    assert current_version(debate) == 2
    assert versions(debate) == [2], "keep=1 retires v1 once v2 is published"
    assert all(uri.startswith("v2/") for uri in top_master_variants(debate))


async def test_cancel_removes_the_partial_version_and_keeps_the_previous(
    tmp_path: Path, sitting: Sitting, long_sitting: Sitting, small_ladder: Ladder, ffmpeg: str
) -> None:
    debate = tmp_path / "debate-3"
    await package(sitting.path, debate, ladder=small_ladder, ffmpeg=ffmpeg)
    v1_files = sorted(p.relative_to(debate) for p in (debate / "v1").rglob("*"))
    progress: list[float] = []
    job = asyncio.ensure_future(
        package(
            long_sitting.path,
            debate,
            ladder=small_ladder,
            ffmpeg=ffmpeg,
            on_progress=lambda stage, f: progress.append(f),
        )
    )
    await wait_for(lambda: any(f > 0.2 for f in progress) or job.done())
    assert (debate / "v2").is_dir()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert versions(debate) == [1]
    assert current_version(debate) == 1
    assert sorted(p.relative_to(debate) for p in (debate / "v1").rglob("*")) == v1_files
    assert ffmpeg_children_of(debate) == []

    # A number once handed out is never reused: players may have cached v2 URIs.
    again = await package(sitting.path, debate, ladder=small_ladder, ffmpeg=ffmpeg)
    assert again.version == 3


async def test_cancel_of_a_first_version_publishes_nothing(
    tmp_path: Path, long_sitting: Sitting, small_ladder: Ladder, ffmpeg: str
) -> None:
    debate = tmp_path / "debate-4"
    job = asyncio.ensure_future(package(long_sitting.path, debate, ladder=small_ladder, ffmpeg=ffmpeg))
    await wait_for(lambda: (debate / "master.m3u8").exists() or job.done())
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert not (debate / "master.m3u8").exists()
    assert versions(debate) == []


async def test_corrupt_input_fails_clearly_and_publishes_nothing(
    tmp_path: Path, small_ladder: Ladder, ffmpeg: str
) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4096))
    text = tmp_path / "notes.txt"
    text.write_text("ceci n'est pas un fichier audio\n" * 100)
    debate = tmp_path / "debate-5"
    for source in (corrupt, text, tmp_path / "missing.m4a"):
        with pytest.raises(MediaError, match=r"cannot package|not found"):
            await package(source, debate, ladder=small_ladder, ffmpeg=ffmpeg)
    assert versions(debate) == [] and not (debate / "master.m3u8").exists()


KILLED_PACKAGER = """
import asyncio, sys
from pathlib import Path
from packager.ladder import Ladder
from packager.vod import package
ladder = Ladder.model_validate_json(sys.argv[3])
asyncio.run(package(Path(sys.argv[1]), Path(sys.argv[2]), ladder=ladder, ffmpeg=sys.argv[4]))
"""


async def test_sigkilled_packager_leaves_the_previous_version_serving_and_recover_cleans_up(
    tmp_path: Path, sitting: Sitting, long_sitting: Sitting, small_ladder: Ladder, ffmpeg: str
) -> None:
    debate = tmp_path / "debate-6"
    await package(sitting.path, debate, ladder=small_ladder, ffmpeg=ffmpeg)
    before = (debate / "master.m3u8").read_text()
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_PACKAGER,
            str(long_sitting.path),
            str(debate),
            small_ladder.model_dump_json(),
            ffmpeg,
        ],
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        await wait_for(lambda: (debate / "v2" / "a64" / "seg_1.m4s").exists() or proc.poll() is not None)
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (debate / "master.m3u8").read_text() == before
    assert (debate / "v2").is_dir() and not (debate / "v2" / ".complete").exists()
    # The kernel kills FFmpeg with its parent (setpriv --pdeathsig): nothing keeps writing into v2.
    await wait_for(lambda: ffmpeg_children_of(debate) == [], timeout=5)

    assert recover(debate) == [2]
    assert versions(debate) == [1] and current_version(debate) == 1
    assert (debate / "master.m3u8").read_text() == before
    assert recover(debate) == []


async def test_ffmpeg_failure_is_typed_with_its_stderr(ffmpeg: str) -> None:
    from packager.ffmpeg import FFmpegError, run_ffmpeg

    with pytest.raises(FFmpegError) as caught:
        args = ["-f", "lavfi", "-i", "anullsrc", "-t", "1", "-c:a", "no-such-codec", "-f", "null", "-"]
        await run_ffmpeg(ffmpeg, args)
    assert caught.value.returncode != 0
    assert 0 < len(caught.value.stderr_tail) <= 20
    assert any("no-such-codec" in line for line in caught.value.stderr_tail)


def test_recover_all_cleans_every_debate(tmp_path: Path) -> None:
    from packager.versions import recover_all

    for name, complete in (("d1", True), ("d2", False)):
        version = tmp_path / name / "v1"
        version.mkdir(parents=True)
        (version / "master.m3u8").write_text("#EXTM3U\na64/index.m3u8\n")
        if complete:
            (version / ".complete").write_text("1\n")
    assert recover_all(tmp_path) == {"d2": [1]}
    assert current_version(tmp_path / "d1") == 1
    assert not (tmp_path / "d2" / "master.m3u8").exists()

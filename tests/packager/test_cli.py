"""`python -m packager INPUT OUTDIR …` as an operator uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import m3u8
import pytest

from packager.cli import main
from packager.ladder import Ladder

from .conftest import Sitting


def test_cli_writes_one_version_with_progress(
    tmp_path: Path, sitting: Sitting, small_ladder: Ladder, ffmpeg: str
) -> None:
    ladder = tmp_path / "ladder.json"
    ladder.write_text(small_ladder.model_dump_json())
    chapters = tmp_path / "chapters.json"
    chapters.write_text(json.dumps([c.model_dump(exclude_none=True) for c in sitting.chapters]))
    outdir = tmp_path / "out"
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "packager",
            str(sitting.path),
            str(outdir),
            "--chapters",
            str(chapters),
            "--ladder",
            str(ladder),
            "--starts-at",
            "2025-01-15T15:00:00Z",
            "--ffmpeg",
            ffmpeg,
            "--target-lufs",
            "-18",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "encoding" in run.stderr and "finalizing 100%" in run.stderr
    expected = ["master.m3u8", "chapters.json", "chapters.vtt", "download.m4a"]
    expected += ["a64/init.mp4", "a64/seg_0.m4s", "ts64/seg_0.ts"]
    for name in expected:
        assert (outdir / name).is_file(), name
    master = m3u8.load(str(outdir / "master.m3u8"))
    assert {p.uri for p in master.playlists} == {"a32/index.m3u8", "a64/index.m3u8", "ts64/index.m3u8"}
    media = m3u8.load(str(outdir / "a64" / "index.m3u8"))
    assert len([d for s in media.segments for d in s.dateranges]) == len(sitting.chapters)


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda d, s: [str(d / "missing.m4a"), str(d / "o")], "input file not found"),
        (lambda d, s: [str(s), str(d / "o"), "--ladder", "nope"], "unknown ladder preset 'nope'"),
        (lambda d, s: [str(s), str(d / "o"), "--chapters", str(d / "bad.json")], "not valid JSON"),
        (lambda d, s: [str(s), str(d / "o"), "--chapters", str(d / "late.json")], "past the end"),
        (lambda d, s: [str(d / "corrupt.m4a"), str(d / "o")], "cannot package corrupt.m4a"),
        (lambda d, s: [str(s), str(d / "o"), "--starts-at", "hier"], "not an ISO 8601"),
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_line(
    tmp_path: Path, sitting: Sitting, ffmpeg: str, capsys: pytest.CaptureFixture[str], make_args, message: str
) -> None:
    (tmp_path / "bad.json").write_text("[{")
    (tmp_path / "late.json").write_text(json.dumps([{"start": 9999, "speaker": {"name": "A"}}]))
    (tmp_path / "corrupt.m4a").write_bytes(b"\x00" * 2048)
    code = main([*make_args(tmp_path, sitting.path), "--ffmpeg", ffmpeg, "--quiet"])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("packager: error")]
    assert code == 2
    assert len(errors) == 1 and message in errors[0], errors
    assert not (tmp_path / "o").exists()

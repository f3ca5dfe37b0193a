"""The browser tests name their screenshots' directory in pytest's terminal summary, `-q` included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_screenshot_directory_is_named_in_the_quiet_summary(tmp_path: Path) -> None:
    (tmp_path / "test_shot.py").write_text(
        "def test_takes_a_screenshot(screenshots):\n    (screenshots / 'page.png').write_bytes(b'png')\n"
    )
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "ROBIAN_E2E_ARTIFACTS": str(artifacts), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.e2e.conftest",
            "test_shot.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"browser screenshots: {artifacts} (1 PNG files)" in done.stdout, done.stdout

"""What a newcomer meets first: the README's two commands, and the command run by hand after them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def pip_installs(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if "pip install" in line and "--upgrade pip" not in line]


def test_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    venv = f"VENV={tmp_path / 'venv'}"
    run = pip_installs(make("-n", "run", venv))
    assert run and all("[dev]" not in line for line in run), run
    test = pip_installs(make("-n", "test", venv))
    assert any("'.[dev]'" in line for line in test), test


def test_make_run_and_the_command_by_hand_use_the_same_data_dir(tmp_path: Path) -> None:
    # a venv that is already installed, whose robian-media says where its data would go
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "robian-media"
    script.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c "
        "'from robian_media.settings import Settings; print(Settings(_env_file=None).data_dir)'\n"
    )
    script.chmod(0o755)
    (venv / "bin" / "python").symlink_to(sys.executable)
    for stamp in (".installed-run", ".installed-dev"):
        (venv / stamp).touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_DATA_HOME", None)
    env["PYTHONPATH"] = str(ROOT)
    by_make = make("-s", "run", f"VENV={venv}", env=env).strip()
    by_hand = subprocess.run(
        [str(script)], capture_output=True, text=True, env=env, timeout=60, check=True
    ).stdout.strip()
    assert by_make == by_hand == str(tmp_path / "home" / ".local" / "share" / "robian-media")


def test_the_package_builds_without_deprecation_warnings(tmp_path: Path) -> None:
    # a copy: building writes build/ and egg-info beside the sources
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("robian_media", "packager"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "SetuptoolsDeprecationWarning" not in output, output[-3000:]

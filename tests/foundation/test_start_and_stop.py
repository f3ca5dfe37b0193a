"""Starting and stopping ``robian-media serve`` as a person does: twice on one port, Ctrl-C at any moment."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services import free_port, server_env

# the worker's grace plus the time to close the pools, the event bus and the sockets
STOP_BOUND_S = 15.0


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_refused_at_once_in_one_line(tmp_path: Path, database_url: str, command: str) -> None:
    env = server_env(database_url=database_url, data_dir=str(tmp_path / "data"), workers="1")
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "robian_media.cli", command, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    print(f"{command} on a busy port: exit {done.returncode} after {elapsed:.2f} s")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0] and "already in use" in lines[0] and "--port" in lines[0]
    assert done.stdout == ""
    # nothing started: no database, no worker (their first lines never came)
    assert not (tmp_path / "data").exists()


def test_ctrl_c_at_any_moment_of_start_up_ends_the_process(tmp_path: Path, database_url: str) -> None:
    env = server_env(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        workers="1",
        worker_shutdown_grace_seconds="2",
        log_level="WARNING",
    )
    slow: list[str] = []
    for attempt in range(20):
        port = free_port()
        log = tmp_path / f"serve-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "robian_media.cli", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # from the first imports to well after the server is up (about 3 s here)
        time.sleep(attempt * 0.25)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            code = proc.wait(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"attempt {attempt}: still running {STOP_BOUND_S} s after Ctrl-C:\n{log.read_text()}")
        took = time.monotonic() - sent
        output = log.read_text(errors="replace")
        # -SIGINT: the signal came before Python had started
        assert code in (0, 130, -signal.SIGINT), f"attempt {attempt}: exit {code}\n{output}"
        # Python's own KeyboardInterrupt while it is still importing modules is fine; nothing else
        interrupted_import = (
            output.rstrip().endswith("KeyboardInterrupt") and "robian_media/app.py" not in output
        )
        assert "Traceback" not in output or interrupted_import, f"attempt {attempt}:\n{output}"
        assert "CleanupError" not in output and "ERROR" not in output, f"attempt {attempt}:\n{output}"
        slow.append(f"{attempt * 0.25:.2f}s→{took:.2f}s")
    print("Ctrl-C after → stopped in:", ", ".join(slow))

"""`robian-media serve` with no URLs: embedded PostgreSQL, in-process fallbacks, media served by aiohttp."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.services import free_port


def test_serve_on_embedded_defaults_is_ready_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env.update({"ROBIAN_DATA_DIR": str(tmp_path / "data"), "ROBIAN_WORKERS": "0"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "robian_media.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as resp:
                    body = json.load(resp)
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, (
            proc.stdout.read().decode() if proc.poll() is not None else "not ready in 60 s"
        )
        assert body["checks"]["postgres"]["status"] == "up"
        assert body["checks"]["redis"]["status"] == "disabled"
        assert (tmp_path / "data" / "pg" / "PG_VERSION").exists()
        assert (tmp_path / "data" / "admin-token").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(
                "serve did not stop within 30 s of SIGINT:\n" + out.decode()[-3000:]
            ) from None
    assert proc.returncode == 0, out.decode()[-2000:]
    # the embedded server was stopped with the app
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists()

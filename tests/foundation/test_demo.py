"""`robian-media demo`: a synthesised sitting, packaged and playable, without a source of your own."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.services import free_port


def test_demo_publishes_a_playable_multi_speaker_sitting(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env.update(
        {
            "ROBIAN_DATA_DIR": str(tmp_path / "data"),
            "ROBIAN_DATABASE_URL": database_url,
            "ROBIAN_WORKERS": "1",
            "ROBIAN_LADDER": "speech-fast",
            "ROBIAN_LOG_LEVEL": "WARNING",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "robian_media.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        published = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and published is None:
            line = proc.stdout.readline()
            if not line:
                break
            published = re.search(r"demo sitting published: (\S+)", line)
        assert published is not None, "the demo sitting was not published"
        master = published.group(1)
        # no ROBIAN_PUBLIC_BASE_URL: media URLs follow --port
        assert master.startswith(f"http://127.0.0.1:{port}/hls/"), master
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", master, "-f", "null", "-"], capture_output=True
        )
        assert decoded.returncode == 0, decoded.stderr
        debate_id = master.split("/hls/")[1].split("/")[0]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/debates/{debate_id}", timeout=10
        ) as resp:
            debate = json.load(resp)
        assert debate["status"] == "published"
        assert len({c["speaker"]["name"] for c in debate["chapters"]}) == 4
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

"""`robian-media demo`: a synthesised sitting, packaged and playable, without a source of your own."""

import json
import subprocess
import urllib.request
from pathlib import Path

from tests.services import DemoServer


def test_demo_publishes_a_playable_multi_speaker_sitting(tmp_path: Path, database_url: str) -> None:
    demo = DemoServer(tmp_path / "data", database_url).start()
    try:
        # no ROBIAN_PUBLIC_BASE_URL: media URLs follow --port
        assert demo.master_url.startswith(f"{demo.base_url}/hls/"), demo.master_url
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", demo.master_url, "-f", "null", "-"], capture_output=True
        )
        assert decoded.returncode == 0, decoded.stderr
        with urllib.request.urlopen(f"{demo.base_url}/api/v1/debates/{demo.debate_id}", timeout=10) as resp:
            debate = json.load(resp)
        assert debate["status"] == "published"
        assert len({c["speaker"]["name"] for c in debate["chapters"]}) == 4
        # the URL a newcomer opens: the listener page, on this debate
        page = demo.printed("browser:")
        assert page == f"{demo.base_url}/?debate={demo.debate_id}"
        with urllib.request.urlopen(page, timeout=10) as resp:
            assert resp.headers.get_content_type() == "text/html"
            assert "hls.light.min.js" in resp.read().decode()
    finally:
        demo.stop()

"""`robian-media demo`: a synthesised sitting, packaged and playable, without a source of your own."""

import json
import subprocess
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

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
        # the README shows what the demo ends with, line for line
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        block = readme.split("It ends with\n\n```\n", 1)[1].split("```", 1)[0]
        expected = block.replace("http://127.0.0.1:8080", demo.base_url).replace("<id>", demo.debate_id)
        assert [line.rstrip("\n") for line in demo.lines[-3:]] == expected.splitlines()
        # the URL a newcomer opens: the listener page, on this debate
        page = demo.printed("browser:")
        assert page == f"{demo.base_url}/?debate={demo.debate_id}"
        with urllib.request.urlopen(page, timeout=10) as resp:
            assert resp.headers.get_content_type() == "text/html"
            assert "hls.light.min.js" in resp.read().decode()
        # the in-process worker counted its job into the server's /metrics
        with urllib.request.urlopen(f"{demo.base_url}/metrics", timeout=10) as resp:
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(resp.read().decode())
                for sample in family.samples
            }
        assert samples[("robian_ingest_attempts_total", (("outcome", "succeeded"),))] == 1
        media = samples[("robian_packaging_media_seconds_total", ())]
        wall = samples[("robian_packaging_wall_seconds_total", ())]
        assert round(media, 3) == debate["duration"] and wall > 0  # answers round to the millisecond
        print(f"demo sitting packaged at {media / wall:.1f}x real time ({media:.1f} s in {wall:.2f} s)")
        assert samples[("robian_jobs_active", (("kind", "ingest"), ("status", "running")))] == 0
        assert samples[("robian_job_state_up", ())] == 1
    finally:
        demo.stop()

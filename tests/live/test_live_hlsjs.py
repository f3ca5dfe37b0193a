"""hls.js in Chromium plays a live sitting in low-latency mode: blocking reloads, parts, playback.

The browser tools come from tests/e2e (playwright-core and hls.js, installed by tests/setup-machine.sh);
``ROBIAN_E2E_NODE_MODULES`` points elsewhere. Latency goals are measured in bench/live_edge_bench.py;
here it only has to stay within a generous bound on a loaded machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.ingest.origin import Origin
from tests.live.helpers import start_live, wait_stream
from tests.live.source import LiveSourcePublisher

HERE = Path(__file__).resolve().parent
NODE_MODULES = Path(os.environ.get("ROBIAN_E2E_NODE_MODULES", HERE.parent / "e2e" / "node_modules"))
CHROMIUM = os.environ.get("ROBIAN_CHROMIUM", "/usr/bin/chromium")


async def play(master_url: str, seconds: float) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(HERE / "live-player.mjs"), str(NODE_MODULES), master_url, str(seconds),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), seconds + 90)
    assert proc.returncode == 0, stderr.decode()
    return dict(json.loads(stdout.decode().strip().splitlines()[-1]))


async def test_hls_js_plays_the_live_stream_in_low_latency_mode(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    missing = [
        what
        for what, ok in [
            ("node", shutil.which("node") is not None),
            (CHROMIUM, Path(CHROMIUM).exists()),
            (f"{NODE_MODULES}/playwright-core and hls.js", (NODE_MODULES / "playwright-core").is_dir()),
        ]
        if not ok
    ]
    assert not missing, f"missing {', '.join(missing)}: run bash tests/setup-machine.sh"
    started = await start_live(live_client, origin.url("/files/live/playlist.m3u8"))
    await wait_stream(live_client, started["debate_id"])

    result = await play(str(live_client.make_url(f"/hls/{started['debate_id']}/master.m3u8")), 16)
    assert result["supported"]
    samples = result["samples"]
    assert all(sample["fatal"] is None for sample in samples), samples
    assert all(sample["lowLatency"] for sample in samples)
    times = [sample["time"] for sample in samples]
    assert times[-1] > times[len(times) // 2] > 0.5, samples  # playing, and still advancing at the end
    # low latency from our playlists: blocking reloads and parts, not only whole segments
    assert any("_HLS_msn=" in url for url in result["requests"])
    assert any("/part_" in url for url in result["requests"])
    latencies = [sample["latency"] for sample in samples[-6:] if sample["latency"] is not None]
    # generous on a loaded machine: the goal (3 s) is the bench's business
    assert latencies and max(latencies) < 20, samples

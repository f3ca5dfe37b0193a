"""``robian-media ingest URL --wait`` alone, and the old client's extraction routes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from robian_media.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.ingest.conftest import AUTH, ffmpeg_reads, wait_job
from tests.ingest.origin import Origin
from tests.ingest.test_worker_kill import worker_env


async def test_ingest_command_waits_with_progress_and_prints_a_playable_master(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin, tmp_path: Path
) -> None:
    settings = ingest_settings(workers=0)
    server = await aiohttp_client(create_app(settings))  # serves /hls/ from the same media root
    env = worker_env(settings)
    env["ROBIAN_PUBLIC_BASE_URL"] = str(server.make_url("")).rstrip("/")
    chapters = tmp_path / "chapters.json"
    chapters.write_text(
        json.dumps(
            [
                {"start": 0, "speaker": {"name": "Claire Martin"}},
                {"start": 12, "speaker": {"name": "Luc Moreau"}},
            ]
        )
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robian_media.cli", "ingest", origin.url("/files/speech.m4a"),
        "--chapters", str(chapters), "--wait",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("job ")
    master_url = lines[-1]
    assert master_url.startswith(env["ROBIAN_PUBLIC_BASE_URL"] + "/hls/") and master_url.endswith(
        "/master.m3u8"
    )
    progress = err.decode()
    assert "no worker is running" in progress  # it ran one itself
    # stages appear in pipeline order and end published; a short source can pass a stage between
    # two polls of the job row (0.25 s), so which middle stages show is not fixed
    order = ["queued", "fetching", "probing", "packaging", "publishing"]
    shown = [line.split()[0] for line in progress.splitlines() if line.split() and line.split()[0] in order]
    assert shown == sorted(shown, key=order.index) and "fetching" in shown
    assert progress.rstrip().endswith("publishing 100%")
    await ffmpeg_reads(master_url)
    vtt = await (await server.get(urlsplit(master_url).path.replace("master.m3u8", "v1/chapters.vtt"))).text()
    assert "Luc Moreau" in vtt


async def test_the_ingest_command_explains_a_refusal(ingest_settings: Any) -> None:
    env = worker_env(ingest_settings())
    env["ROBIAN_INGEST_ALLOW_PRIVATE"] = "false"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robian_media.cli", "ingest", "http://169.254.169.254/latest", "--wait",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "169.254.169.254 is a link-local address" in err.decode()


async def test_legacy_extraction_routes_map_onto_ingest_and_jobs(ingest_client: Any, origin: Origin) -> None:
    url = origin.url("/files/speech.m4a")
    response = await ingest_client.post("/api/extraction", json={"url": url, "priority": "urgent"})
    assert response.status == 401  # ingest makes the server fetch URLs: admins only
    response = await ingest_client.post(
        "/api/extraction", json={"url": url, "priority": "urgent"}, headers=AUTH
    )
    assert response.status == 202
    answer = await response.json()
    assert answer["success"] is True and answer["data"]["status"] == "started"
    extraction_id = answer["data"]["extraction_id"]
    status = await (await ingest_client.get(f"/api/extraction/{extraction_id}")).json()
    assert status["status"] == "processing"
    job = await wait_job(ingest_client, extraction_id)
    assert job["status"] == "succeeded"
    status = await (await ingest_client.get(f"/api/extraction/{extraction_id}")).json()
    debate_id = answer["data"]["debate_id"]
    assert status["status"] == "completed"
    assert status["file_url"] == f"/api/debats/{debate_id}/file"
    assert status["stream_url"] == f"http://media.test/hls/{debate_id}/master.m3u8"
    assert status["file_size"] > 10_000
    # the v1 field name is accepted too, and the same source is the same extraction
    again = await ingest_client.post("/api/extraction", json={"source_url": url}, headers=AUTH)
    assert again.status == 200
    assert (await again.json())["data"]["extraction_id"] == extraction_id
    missing = await ingest_client.post("/api/extraction", json={"priority": "normal"}, headers=AUTH)
    assert missing.status == 422
    assert ADMIN_TOKEN not in await missing.text()

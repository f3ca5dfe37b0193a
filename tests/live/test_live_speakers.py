"""Speakers named live: the event at once, a DATERANGE in every rung, chapters stored and kept in the VOD,
each intervention cut as its own clip once the recording is published."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.events.clients import open_sse
from tests.ingest.conftest import AUTH, wait_job
from tests.ingest.origin import Origin
from tests.live.helpers import reaches, rung_paths, start_live, stop_live, text, wait_playlist, wait_stream
from tests.live.source import LiveSourcePublisher

BRAUN_PIVET = {"id": "PA720", "name": "Yaël Braun-Pivet", "group": "EPR"}


async def name_speaker(client: TestClient[Any, Any], debate_id: str, speaker: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/live/{debate_id}/speaker", json={"speaker": speaker}, headers=AUTH)
    assert response.status == 202, await response.text()
    return dict(await response.json())


async def test_speaker_changes_reach_listeners_playlists_and_the_vod(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher, tmp_path: Path
) -> None:
    started = await start_live(live_client, origin.url("/files/live/playlist.m3u8"))
    debate_id = started["debate_id"]
    await wait_stream(live_client, debate_id)
    rungs = await rung_paths(live_client, debate_id)
    events = await open_sse(
        live_client.session,
        live_client.make_url(f"/api/v1/events?channels=live:{debate_id},debate:{debate_id}"),
    )

    first = await name_speaker(live_client, debate_id, BRAUN_PIVET)
    assert first["index"] == 1
    seen = [await events.next(timeout=10), await events.next(timeout=10)]
    assert [message.event for message in seen] == ["live.speaker", "live.speaker"]
    assert {message.json["channel"] for message in seen} == {f"live:{debate_id}", f"debate:{debate_id}"}
    assert seen[0].json["data"]["speaker"]["name"] == "Yaël Braun-Pivet"
    for rung in rungs:
        body = await wait_playlist(live_client, rung, lambda body: 'ID="ch-1"' in body)
        assert 'X-SPEAKER-ID="PA720",X-SPEAKER-NAME="Yaël Braun-Pivet"' in body

    await name_speaker(live_client, debate_id, "Marine Le Pen")
    for rung in rungs:
        body = await wait_playlist(live_client, rung, lambda body: 'ID="ch-2"' in body)
        first_range = next(line for line in body.splitlines() if 'ID="ch-1"' in line)
        assert "DURATION=" in first_range  # the first intervention ended where the second began
    # a speaker named now starts at the source's "now": the recording has to get there first
    await wait_playlist(live_client, rungs[0], reaches("ch-2"), timeout=30)

    await stop_live(live_client, debate_id)
    job = await wait_job(live_client, started["job_id"])
    assert job["status"] == "succeeded", job
    chapters = await (await live_client.get(f"/api/v1/debates/{debate_id}/chapters")).json()
    assert [c["speaker"]["name"] for c in chapters] == ["Yaël Braun-Pivet", "Marine Le Pen"]
    assert chapters[0]["end"] == chapters[1]["start"] > chapters[0]["start"]
    stream = await (await live_client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    apple = json.loads(await text(live_client, stream["chapters_url"].replace("http://media.test", "")))
    assert [entry["titles"][0]["title"] for entry in apple] == ["Yaël Braun-Pivet", "Marine Le Pen"]
    for rung in rungs:
        body = await text(live_client, rung)
        assert body.count("#EXT-X-DATERANGE") == 2 and body.rstrip().endswith("#EXT-X-ENDLIST")
    events.close()

    # each intervention of the recording is cut ahead as its own file, from rungs written part by part
    deadline = asyncio.get_running_loop().time() + 30
    while "robian_clips_made_total 2.0" not in await (await live_client.get("/metrics")).text():
        assert asyncio.get_running_loop().time() < deadline, "the recording's interventions were not cut"
        await asyncio.sleep(0.1)
    clip = await live_client.get(f"/api/v1/debates/{debate_id}/chapters/2/clip.m4a")
    assert clip.status == 200 and clip.headers["Content-Type"] == "audio/mp4"
    path = tmp_path / "intervention.m4a"
    path.write_bytes(await clip.read())
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert abs(float(probed) - (chapters[1]["end"] - chapters[1]["start"])) <= 1024 / 48000


async def test_speaker_and_stop_refused_when_not_live(live_client: TestClient[Any, Any]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    response = await live_client.post(f"/api/v1/live/{missing}/speaker", json={"speaker": "X"}, headers=AUTH)
    assert response.status == 409
    assert "not being recorded live" in (await response.json())["detail"]
    response = await live_client.post(f"/api/v1/live/{missing}/stop", headers=AUTH)
    assert response.status == 409
    response = await live_client.post(f"/api/v1/live/{missing}/stop")
    assert response.status == 401

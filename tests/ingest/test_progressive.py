"""Progressive playback: a sitting can be listened to while its first version is still being packaged."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from robian_media.app import create_app
from robian_media.web import keys
from tests.events.clients import events_until
from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin


def playable(events: list[Any]) -> bool:
    return any(e.type == "debate.updated" and e.data.get("playable") for e in events)


async def test_the_stream_plays_before_the_sitting_is_published(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin
) -> None:
    # the full speech ladder on a one-minute source: packaging lasts a few seconds at least
    client = await aiohttp_client(create_app(ingest_settings(ladder="speech")))
    subscription = client.app[keys.EVENT_BUS].subscribe(["debates"])
    status, accepted = await submit(client, origin.url("/files/long.m4a"))
    assert status == 202
    job_id, debate_id = accepted["job_id"], accepted["debate_id"]

    announced = [e for e in await events_until(subscription, playable, timeout=120) if playable([e])]
    assert announced[0].data["debate_id"] == debate_id
    response = await client.get(f"/api/v1/debates/{debate_id}/stream")
    assert response.status == 200, await response.text()
    stream = await response.json()
    job = await (await client.get(f"/api/v1/jobs/{job_id}")).json()
    assert job["status"] == "running", "published before the stream was checked"
    assert stream["master_url"] == announced[0].data["master_url"]
    assert (stream["duration"], stream["live"]) == (None, False)
    assert len(stream["variants"]) == 5  # the speech ladder: four fMP4 rungs and the TS fallback
    detail = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
    assert detail["status"] == "processing" and detail["stream"]["master_url"] == stream["master_url"]

    # what it points at plays: the master and a media playlist with segments (EVENT while it grows;
    # the packager may already have finished it by now on a fast machine)
    master = await client.get(urlsplit(stream["master_url"]).path)
    assert master.status == 200
    text = await (await client.get(urlsplit(stream["variants"][0]["url"]).path)).text()
    assert "#EXTINF:" in text
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text or "#EXT-X-ENDLIST" in text

    job = await wait_job(client, job_id)
    assert job["status"] == "succeeded", job
    # the job row says succeeded a moment before the worker drops cached answers: ask until it shows
    async with asyncio.timeout(10):
        while (final := await (await client.get(f"/api/v1/debates/{debate_id}/stream")).json())[
            "duration"
        ] is None:
            await asyncio.sleep(0.1)
    assert final["duration"] > 50 and final["master_url"] == stream["master_url"]
    ended = await (await client.get(urlsplit(final["variants"][0]["url"]).path)).text()
    assert "#EXT-X-ENDLIST" in ended

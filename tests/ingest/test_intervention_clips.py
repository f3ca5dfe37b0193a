"""The publishing job makes each intervention's clip ahead (DESIGN §9): a speaker's feed states the exact
length of every enclosure, and a podcast app downloading one never waits for a cut."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from typing import Any

import podcastparser
from aiohttp.test_utils import TestClient

from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin


async def clips_made(client: TestClient[Any, Any]) -> float:
    metrics = await (await client.get("/metrics")).text()
    found = re.search(r"^robian_clips_made_total (\S+)$", metrics, re.M)
    return float(found[1]) if found else 0.0


async def test_published_interventions_are_ready_as_clips(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    speaker = f"PA7{uuid.uuid4().int % 10**7:07d}"
    chapters = [
        {
            "start": 0,
            "speaker": {"id": speaker, "name": "Claire Martin", "group": "EXDS"},
            "title": "Ouverture",
        },
        {"start": 9.5, "speaker": {"name": "Jean Dupont"}, "title": "Discussion générale"},
        {"start": 20, "end": 24, "speaker": {"id": speaker, "name": "Claire Martin"}},
    ]
    status, accepted = await submit(
        ingest_client, origin.url("/files/speech.m4a"), title="Séance des clips", chapters=chapters
    )
    assert status == 202, accepted
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job

    # right after publishing, the job cuts the three interventions
    deadline = asyncio.get_running_loop().time() + 60
    while await clips_made(ingest_client) < 3:
        assert asyncio.get_running_loop().time() < deadline, "the interventions' clips were not made"
        await asyncio.sleep(0.1)

    feed_url = f"/api/v1/feeds/speakers/{speaker}.rss"
    feed = podcastparser.parse(feed_url, io.BytesIO(await (await ingest_client.get(feed_url)).read()))
    assert [e["guid"] for e in feed["episodes"]] == [
        f"{accepted['debate_id']}/ch-3",
        f"{accepted['debate_id']}/ch-1",
    ]
    for episode in feed["episodes"]:
        [enclosure] = episode["enclosures"]
        resp = await ingest_client.get(enclosure["url"].removeprefix("http://media.test"))
        assert resp.status == 200
        assert enclosure["file_size"] == len(await resp.read())  # the exact length, not an estimate
    assert await clips_made(ingest_client) == 3  # served as they were made, never cut again

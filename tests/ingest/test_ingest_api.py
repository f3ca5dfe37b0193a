"""Ingest through the API: a URL becomes a published, playable debate; submitting is idempotent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from robian_media.web import keys
from tests.events.clients import events_until, quiet
from tests.ingest.conftest import AUTH, ffmpeg_reads, submit, wait_job
from tests.ingest.origin import Origin

CHAPTERS = [
    {
        "start": 0,
        "speaker": {"id": "PA841101", "name": "Claire Martin", "group": "EXDS"},
        "title": "Ouverture",
    },
    {"start": 9.5, "speaker": {"name": "Jean Dupont"}, "title": "Discussion générale"},
    {"start": 20, "end": 24, "speaker": {"name": "Amina Benali"}},
]


async def test_an_m4a_url_becomes_a_playable_debate_with_its_chapters(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    bus = ingest_client.app[keys.EVENT_BUS]
    subscription = bus.subscribe(["jobs", "debates"])
    status, accepted = await submit(
        ingest_client, origin.url("/files/speech.m4a"), title="Séance de test", chapters=CHAPTERS
    )
    assert status == 202, accepted
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert (job["stage"], job["progress"], job["error"]) == ("publishing", 1.0, None)
    assert job["debate_id"] == accepted["debate_id"] and job["kind"] == "ingest"

    debate_id = accepted["debate_id"]
    await ffmpeg_reads(str(ingest_client.make_url(f"/hls/{debate_id}/master.m3u8")))
    chapters_json = await (await ingest_client.get(f"/hls/{debate_id}/v1/chapters.json")).json()
    assert [c["titles"][0]["title"] for c in chapters_json] == [
        "Claire Martin — Ouverture",
        "Jean Dupont — Discussion générale",
        "Amina Benali",
    ]
    conn = await asyncpg.connect(database_url)
    try:
        debate = await conn.fetchrow("SELECT * FROM debates WHERE id = $1", debate_id)
        rows = await conn.fetch("SELECT * FROM chapters WHERE debate_id = $1 ORDER BY idx", debate_id)
        speaker = await conn.fetchrow("SELECT * FROM speakers WHERE id = 'PA841101'")
        renditions = await conn.fetch("SELECT * FROM renditions WHERE debate_id = $1", debate_id)
    finally:
        await conn.close()
    assert (debate["status"], debate["title"], debate["current_version"]) == (
        "published",
        "Séance de test",
        1,
    )
    assert 25 < debate["duration"] < 40
    assert [(r["speaker_name"], r["speaker_id"]) for r in rows] == [
        ("Claire Martin", "PA841101"),
        ("Jean Dupont", None),
        ("Amina Benali", None),
    ]
    assert abs(rows[1]["start_s"] - 9.5) < 0.1 and abs(rows[2]["end_s"] - 24) < 0.1
    assert speaker["name"] == "Claire Martin"
    assert [(r["version"], r["status"]) for r in renditions] == [(1, "published")]
    assert {v["codecs"] for v in json.loads(renditions[0]["variants"])} == {"mp4a.40.2"}

    events = await events_until(
        subscription, lambda seen: {"job.succeeded", "debate.published"} <= {e.type for e in seen}
    )
    events += await quiet(subscription)
    bus.unsubscribe(subscription)
    types = [e.type for e in events]
    assert "job.progress" in types and types.count("job.succeeded") == 1
    assert [e.data["debate_id"] for e in events if e.type == "debate.published"] == [debate_id]
    stages = [e.data["stage"] for e in events if e.type == "job.progress"]
    # every stage is announced, in pipeline order, however short it was
    assert list(dict.fromkeys(stages)) == ["fetching", "probing", "packaging", "publishing"]
    progress = [e.data["progress"] for e in events if e.type == "job.progress"]
    assert progress == sorted(progress)


async def test_the_same_source_again_is_the_same_job_and_debate(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    url = origin.url("/files/speech.m4a")
    first_status, first = await submit(ingest_client, url)
    assert first_status == 202
    # the same source written differently (host case, default port, fragment), several at once
    variants = [url.replace("127.0.0.1", "127.0.0.1") + "#t=3", url.replace("http://", "HTTP://"), url]
    answers = await asyncio.gather(*(submit(ingest_client, v) for v in variants))
    assert {(a["job_id"], a["debate_id"]) for _, a in answers} == {(first["job_id"], first["debate_id"])}
    assert {s for s, _ in answers} == {200}
    job = await wait_job(ingest_client, first["job_id"])
    assert job["status"] == "succeeded"
    status, again = await submit(ingest_client, url)
    assert (status, again) == (200, first)


async def test_concurrent_first_submissions_create_one_debate(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    url = origin.url("/files/speech.m4a?race=1")
    answers = await asyncio.gather(*(submit(ingest_client, url) for _ in range(6)))
    assert sorted(s for s, _ in answers) == [200] * 5 + [202]
    assert len({a["job_id"] for _, a in answers}) == 1
    conn = await asyncpg.connect(database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM jobs WHERE debate_id = $1", answers[0][1]["debate_id"]
        )
    finally:
        await conn.close()
    assert count == 1


async def test_bad_requests_are_refused_with_a_message(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    url = origin.url("/files/speech.m4a")
    response = await ingest_client.post("/api/v1/ingest", json={"source_url": url})
    assert response.status == 401
    response = await ingest_client.post("/api/v1/ingest", json={"source_url": url, "extra": 1}, headers=AUTH)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    bad_chapters = [{"start": -1, "speaker": {"name": "X"}}]
    status, problem = await submit(ingest_client, url, chapters=bad_chapters)
    assert status == 422 and problem["errors"][0]["location"].startswith("body.chapters.0")
    status, problem = await submit(ingest_client, url, starts_at="2026-03-10T15:00:00")
    assert status == 422  # timestamps must say their timezone
    response = await ingest_client.get("/api/v1/jobs/not-a-uuid")
    assert response.status == 404
    response = await ingest_client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000")
    assert response.status == 404


async def test_chapters_past_the_end_fail_the_job_with_a_clear_error(
    ingest_client: TestClient[Any, Any], origin: Origin, tmp_path: Path
) -> None:
    chapters = [{"start": 0, "speaker": {"name": "A"}}, {"start": 500, "speaker": {"name": "B"}}]
    status, accepted = await submit(ingest_client, origin.url("/files/speech.m4a?late"), chapters=chapters)
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    assert "past the end of the sitting" in job["error"]
    assert not (tmp_path / "data" / "media" / accepted["debate_id"] / "master.m3u8").exists()


async def test_corrupt_media_fails_without_retry(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    status, accepted = await submit(ingest_client, origin.url("/files/not-audio.m4a"))
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed", job
    assert "cannot be used as audio" in job["error"]
    assert await attempts(database_url, accepted["job_id"]) == 1


async def attempts(database_url: str, job_id: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT attempts FROM jobs WHERE id = $1", job_id))
    finally:
        await conn.close()

"""What field testing found in the answers: a server path shown to anyone, times with float noise."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.factories import create_chapters, create_debate

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

LOCAL_SOURCE = "/srv/robian/data/inbox/demo/sitting.m4a"


async def test_a_local_source_shows_only_its_file_name(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    debate_id = await create_debate(db, chamber=marker)
    await db.execute("UPDATE debates SET source_url = $2 WHERE id = $1", debate_id, LOCAL_SOURCE)
    answers = {}
    for path in (
        f"/api/v1/debates?chamber={marker}",
        f"/api/v1/debates/{debate_id}",
        "/api/debats?limit=100",
        f"/api/debats/{debate_id}",
    ):
        response = await client.get(path)
        assert response.status == 200, path
        answers[path] = await response.text()
        assert "/srv/robian" not in answers[path], path
    detail = json.loads(answers[f"/api/v1/debates/{debate_id}"])
    assert detail["source_url"] == "sitting.m4a"
    assert json.loads(answers[f"/api/debats/{debate_id}"])["url_source"] == "sitting.m4a"
    listed = json.loads(answers[f"/api/v1/debates?chamber={marker}"])["items"]
    assert [item["source_url"] for item in listed] == ["sitting.m4a"]


async def test_a_file_url_source_shows_only_its_file_name(client: Any, db: asyncpg.Connection) -> None:
    debate_id = await create_debate(db)
    await db.execute(
        "UPDATE debates SET source_url = $2 WHERE id = $1", debate_id, "file:///srv/inbox/s%C3%A9ance%201.m4a"
    )
    detail = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
    assert detail["source_url"] == "séance 1.m4a"


async def test_an_http_source_is_shown_as_it_is(client: Any, db: asyncpg.Connection) -> None:
    debate_id = await create_debate(db)
    detail = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
    assert detail["source_url"].startswith("https://videos.example.test/")


async def test_times_are_rounded_to_the_millisecond(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate_id = await create_debate(db, chamber=marker, duration=73.13329166666665)
    await create_chapters(
        db,
        debate_id,
        [
            {"start": 0, "end": 12.345678912, "speaker_name": "Marie Dupont"},
            {"start": 12.345678912, "end": 73.13329166666665, "speaker_name": "Le président"},
        ],
    )
    detail = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
    assert detail["duration"] == 73.133
    assert [(c["start"], c["end"]) for c in detail["chapters"]] == [(0, 12.346), (12.346, 73.133)]
    assert detail["stream"]["duration"] == 73.133
    stream = await (await client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    assert stream["duration"] == 73.133
    chapters = await (await client.get(f"/api/v1/debates/{debate_id}/chapters")).json()
    assert chapters[1]["start"] == 12.346
    listed = await (await client.get(f"/api/v1/debates?chamber={marker}")).json()
    assert listed["items"][0]["duration"] == 73.133


# -- the RobianAPI backend's own test scripts, run against us ---------------------------------------


async def test_a_stream_being_extracted_keeps_every_old_key(client: Any, db: asyncpg.Connection) -> None:
    extracting = await create_debate(db, status="processing", version=None)
    answer = await (await client.get(f"/api/debats/{extracting}/stream")).json()
    # the old backend: {"stream_url": null, "status": "extracting", "message": "…"}
    assert answer["stream_url"] is None
    assert answer["status"] == "extracting"
    assert isinstance(answer["message"], str) and answer["message"]


async def test_an_extraction_in_progress_says_so_in_its_message(client: Any) -> None:
    body = {"url": "http://127.0.0.1:9/sitting.m4a", "priority": "normal"}
    accepted = await client.post("/api/extraction", json=body, headers=AUTH)
    assert accepted.status == 202, await accepted.text()
    extraction_id = (await accepted.json())["data"]["extraction_id"]
    status = await (await client.get(f"/api/extraction/{extraction_id}")).json()
    assert status["status"] == "processing"
    assert status["message"] == "Extraction en cours"


async def test_the_old_priorities_are_accepted_and_ordered(client: Any, db: asyncpg.Connection) -> None:
    queued = {}
    for priority in ("low", "normal", "high", "urgent"):
        body = {"url": f"http://127.0.0.1:9/{priority}-{uuid.uuid4().hex}.m4a", "priority": priority}
        response = await client.post("/api/extraction", json=body, headers=AUTH)
        assert response.status == 202, await response.text()
        queued[priority] = (await response.json())["data"]["extraction_id"]
    rows = await db.fetch(
        "SELECT args->>'job_id' AS job_id, priority FROM procrastinate_jobs WHERE args->>'job_id' = ANY($1)",
        list(queued.values()),
    )
    priority_of = {row["job_id"]: row["priority"] for row in rows}
    low, normal, high, urgent = (priority_of[queued[name]] for name in ("low", "normal", "high", "urgent"))
    assert low < normal < high == urgent
    refused = await client.post(
        "/api/extraction", json={"url": "http://127.0.0.1:9/x.m4a", "priority": "soon"}, headers=AUTH
    )
    assert refused.status == 422


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/debats/", "/api/debats"),
        ("/api/debats/?limit=5", "/api/debats?limit=5"),
        ("/api/programme/", "/api/programme"),
        ("/health/", "/health"),
        ("/health/ready/", "/health/ready"),
    ],
)
async def test_trailing_slashes_redirect_like_the_old_backend(client: Any, path: str, target: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 307
    assert response.headers["Location"] == target


async def test_a_debat_with_a_trailing_slash_redirects(client: Any, db: asyncpg.Connection) -> None:
    debate_id = await create_debate(db)
    response = await client.get(f"/api/debats/{debate_id}/", allow_redirects=False)
    assert response.status == 307 and response.headers["Location"] == f"/api/debats/{debate_id}"
    followed = await client.get(f"/api/debats/{debate_id}/")
    assert followed.status == 200 and (await followed.json())["id"] == str(debate_id)


async def test_the_root_describes_the_service_to_json_clients(client: Any) -> None:
    response = await client.get("/", headers={"Accept": "application/json"})
    assert response.status == 200 and response.content_type == "application/json"
    answer = await response.json()
    assert answer["name"] == "robian-media" and answer["status"] == "ok" and answer["version"]
    assert answer["links"]["docs"] == "/api/docs" and answer["links"]["api"] == "/api/v1"
    assert answer["success"] is True  # the old backend's keys
    assert "Accept" in response.headers["Vary"]
    browser = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.content_type == "text/html" and "<html" in await browser.text()

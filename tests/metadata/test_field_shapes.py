"""What field testing found in the answers: a server path shown to anyone, times with float noise."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from tests.factories import create_chapters, create_debate

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

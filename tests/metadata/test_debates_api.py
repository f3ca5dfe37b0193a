"""/api/v1/debates: filters, keyset pages under concurrent inserts, detail, chapters, stream."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any

import asyncpg
import pytest

from robian_media.catalog.debate_queries import (
    LIST_DEBATES_JSON,
    DebateFilters,
    list_debates_json,
    page_statement,
)
from robian_media.media.urls import MediaUrls
from tests.factories import DEBATE_FIELDS, create_chapters, create_debate, create_job, create_speaker

BASE = dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)


def listing_key(item: dict[str, Any]) -> tuple[str, str]:
    # newest first, unknown start last: compare as strings, "" sorting lowest
    return (item["starts_at"] or "", item["id"])


async def walk(client: Any, params: dict[str, Any], between_pages: Any = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/api/v1/debates", params=query)
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        assert set(page) == {"items", "next_cursor"}
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        if between_pages is not None:
            await between_pages()


async def test_pages_have_no_duplicates_or_gaps_while_rows_are_inserted(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    rng = random.Random(7)
    initial: set[str] = set()
    for i in range(240):
        # many sittings share a start time (ties broken by id), some have no known start
        starts = None if i % 25 == 0 else BASE + dt.timedelta(hours=rng.randrange(60))
        initial.add(str(await create_debate(db, chamber=marker, title=f"Séance {i}", starts_at=starts)))
    hidden = await create_debate(db, chamber=marker, status="failed")

    async def insert_some() -> None:
        for _ in range(4):
            starts = BASE + dt.timedelta(hours=rng.randrange(-5, 65))
            await create_debate(db, chamber=marker, title="Inserted meanwhile", starts_at=starts)

    seen = await walk(client, {"chamber": marker, "limit": 17}, between_pages=insert_some)
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a debate appeared on two pages"
    assert initial <= set(ids), f"{len(initial - set(ids))} debates were skipped"
    assert str(hidden) not in ids  # failed debates are not listed by default
    keys = [listing_key(item) for item in seen]
    assert keys == sorted(keys, reverse=True)
    assert seen[-1]["starts_at"] is None
    assert all(set(item) == DEBATE_FIELDS for item in seen)


async def test_filters_narrow_the_list(client: Any, db: asyncpg.Connection, marker: str) -> None:
    speaker = await create_speaker(db, "Hélène Garnier", group_abbrev="EXDS")
    late_evening = await create_debate(
        db, chamber=marker, title="Séance du soir", starts_at=dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)
    )  # 11 March in Paris
    day = await create_debate(
        db,
        chamber=marker,
        title="Proposition de loi sur l'accès aux soins",
        body="Commission des affaires sociales",
        starts_at=dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
    )
    await create_chapters(db, day, [{"start": 0, "end": 60, "speaker_id": speaker, "title": "Ouverture"}])
    live = await create_debate(
        db, chamber=marker, title="En direct", status="live", version=None, starts_at=None
    )
    pending = await create_debate(db, chamber=marker, title="Bientôt", status="pending", starts_at=None)

    async def ids(**params: Any) -> set[str]:
        return {item["id"] for item in await walk(client, {"chamber": marker, **params})}

    assert await ids() == {str(late_evening), str(day), str(live)}
    assert await ids(date_from="2026-03-11") == {str(late_evening)}
    assert await ids(date_to="2026-03-10") == {str(day)}
    assert await ids(body="COMMISSION des affaires SOCIALES") == {str(day)}
    assert await ids(speaker_id=speaker) == {str(day)}
    assert await ids(status="live") == {str(live)}
    assert await ids(status="pending,live") == {str(live), str(pending)}
    assert await ids(q="acces aux soins") == {str(day)}
    assert await ids(q="ouverture") == {str(day)}  # a chapter's title
    assert await ids(chamber=marker + "x") == set()


async def test_a_page_of_the_list_is_planned_once_per_connection_not_at_each_request(
    db: asyncpg.Connection, marker: str
) -> None:
    # Planning the list's statement anew at each request cost PostgreSQL more than running it: the
    # statement holds only the filters given, so PostgreSQL keeps one generic plan and reuses it
    for i in range(3):
        await create_debate(db, chamber=marker, title=f"Séance {i}", starts_at=BASE + dt.timedelta(days=i))
    urls = MediaUrls("http://127.0.0.1:8080")
    for filters in (DebateFilters(chamber=marker), DebateFilters(chamber=marker, q="séance")):
        for _ in range(10):
            page = await list_debates_json(db, filters, limit=2, after=None, urls=urls)
            assert len(json.loads(page.items)) == 2 and page.more
        sql = page_statement(LIST_DEBATES_JSON, filters, 2, None, base=urls.base).sql
        plans = await db.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", sql
        )
        assert plans is not None
        assert plans["generic_plans"] >= 5, dict(plans)


async def test_detail_has_chapters_and_stream(client: Any, db: asyncpg.Connection, marker: str) -> None:
    speaker = await create_speaker(db, "Marie Dupont", group_id="PO845401", group_abbrev="EXDS")
    debate = await create_debate(db, chamber=marker, title="Questions au Gouvernement", version=3)
    await create_chapters(
        db,
        debate,
        [
            {"start": 0, "end": 42.5, "speaker_name": "La présidente", "title": "Ouverture de la séance"},
            {"start": 42.5, "end": 300, "speaker_id": speaker, "title": "Question sur l'hôpital"},
            {"start": 300, "end": 320, "speaker_id": speaker, "speaker_name": "Mme Marie Dupont"},
        ],
    )
    resp = await client.get(f"/api/v1/debates/{debate}")
    assert resp.status == 200
    body = await resp.json()
    assert set(body) == DEBATE_FIELDS | {"chapters", "stream"}
    assert body["chapters_count"] == 3 and body["speakers_count"] == 2
    assert body["master_url"] == f"http://media.test/hls/{debate}/master.m3u8"
    assert body["starts_at"] == "2026-03-10T14:00:00Z"
    assert body["chapters"][1] == {
        "index": 1,
        "start": 42.5,
        "end": 300.0,
        "speaker": {"id": speaker, "name": "Marie Dupont", "group": "EXDS"},
        "title": "Question sur l'hôpital",
    }
    assert body["chapters"][0]["speaker"] == {"id": None, "name": "La présidente", "group": None}
    assert body["chapters"][2]["speaker"]["name"] == "Mme Marie Dupont"  # as the chapter names them

    chapters = await (await client.get(f"/api/v1/debates/{debate}/chapters")).json()
    assert chapters == body["chapters"]

    stream = await (await client.get(f"/api/v1/debates/{debate}/stream")).json()
    assert stream == body["stream"]
    base = f"http://media.test/hls/{debate}"
    assert stream == {
        "master_url": f"{base}/master.m3u8",
        "variants": [
            {
                "bandwidth": 41000,
                "average_bandwidth": 35000,
                "codecs": "mp4a.40.2",
                "url": f"{base}/v3/a32/index.m3u8",
            },
            {
                "bandwidth": 76000,
                "average_bandwidth": 68000,
                "codecs": "mp4a.40.2",
                "url": f"{base}/v3/a64/index.m3u8",
            },
            {
                "bandwidth": 110000,
                "average_bandwidth": 101000,
                "codecs": "mp4a.40.2",
                "url": f"{base}/v3/a96/index.m3u8",
            },
            {
                "bandwidth": 83000,
                "average_bandwidth": 74000,
                "codecs": "mp4a.40.2",
                "url": f"{base}/v3/ts64/index.m3u8",
            },
        ],
        "chapters_url": f"{base}/v3/chapters.json",
        "vtt_url": f"{base}/v3/chapters.vtt",
        "download_url": f"http://media.test/api/v1/debates/{debate}/download",
        "duration": 3600.0,
        "live": False,
        # no words attached (DESIGN §8)
        "subtitles_url": None,
        "transcript_url": None,
    }


async def test_live_debate_stream_says_live(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate = await create_debate(
        db, chamber=marker, status="live", rendition_status="building", duration=None
    )
    stream = await (await client.get(f"/api/v1/debates/{debate}/stream")).json()
    assert stream["live"] is True and stream["duration"] is None


async def test_unpackaged_debate_says_what_its_job_is_doing(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    debate = await create_debate(db, chamber=marker, status="processing", version=None)
    job = await create_job(db, debate, status="running", stage="packaging", progress=0.42)
    resp = await client.get(f"/api/v1/debates/{debate}/stream")
    problem = await resp.json(content_type=None)
    assert resp.status == 404 and resp.content_type == "application/problem+json"
    assert "not packaged yet" in problem["detail"] and str(job) in problem["detail"]
    assert "packaging" in problem["detail"] and "42 %" in problem["detail"]

    detail = await (await client.get(f"/api/v1/debates/{debate}")).json()
    assert detail["stream"] is None and detail["master_url"] is None and detail["chapters"] == []

    failed = await create_debate(db, chamber=marker, status="failed", version=None)
    await create_job(
        db,
        failed,
        status="failed",
        stage="fetching",
        error="http://10.0.0.7/s.m4a?key=k answered HTTP 404",
        error_category="source not found",
    )
    problem = await (await client.get(f"/api/v1/debates/{failed}/stream")).json(content_type=None)
    # the kind of failure, not the operator's details (issue #22, item 11)
    assert "failed: source not found" in problem["detail"] and "10.0.0.7" not in problem["detail"]


async def test_unknown_or_malformed_ids_are_404_problems(client: Any) -> None:
    for path in (
        "/api/v1/debates/not-a-uuid",
        "/api/v1/debates/12345/chapters",
        "/api/v1/debates/x/stream",
        "/api/v1/debates/%27%20OR%201=1/download",
        f"/api/v1/debates/{uuid.uuid4()}",
        f"/api/v1/debates/{uuid.uuid4()}/chapters",
        f"/api/v1/debates/{uuid.uuid4()}/stream",
        f"/api/v1/debates/{uuid.uuid4()}/download",
    ):
        resp = await client.get(path)
        body = await resp.json(content_type=None)
        assert resp.status == 404, path
        assert resp.content_type == "application/problem+json"
        assert body["status"] == 404 and body["detail"]


async def test_counts_follow_chapter_changes(client: Any, db: asyncpg.Connection, marker: str) -> None:
    speaker = await create_speaker(db, "Louis Martin")
    debate = await create_debate(db, chamber=marker)
    other = await create_debate(db, chamber=marker)
    await create_chapters(
        db,
        debate,
        [
            {"start": 0, "end": 1, "speaker_id": speaker},
            {"start": 1, "end": 2, "speaker_name": "Le président"},
            {"start": 2, "end": 3, "speaker_id": speaker},
        ],
    )

    async def counts(debate_id: uuid.UUID) -> tuple[int, int]:
        row = await db.fetchrow("SELECT chapters_count, speakers_count FROM debates WHERE id = $1", debate_id)
        return row["chapters_count"], row["speakers_count"]

    assert await counts(debate) == (3, 2)
    await db.execute(
        "UPDATE chapters SET speaker_id = NULL, speaker_name = 'X' WHERE debate_id = $1 AND idx = 0", debate
    )
    assert await counts(debate) == (3, 3)
    await db.execute("UPDATE chapters SET debate_id = $2 WHERE debate_id = $1 AND idx = 2", debate, other)
    assert await counts(debate) == (2, 2) and await counts(other) == (1, 1)
    await db.execute("DELETE FROM chapters WHERE debate_id = $1", debate)
    assert await counts(debate) == (0, 0)
    await db.execute("DELETE FROM debates WHERE id = $1", other)  # cascades to its chapters
    assert (await client.get(f"/api/v1/debates/{other}")).status == 404


async def test_read_sessions_refuse_writes(client: Any) -> None:
    """Why the read pool may skip asyncpg's session reset: its sessions cannot change anything."""
    from robian_media.web import keys

    async with client.app[keys.READ_POOL].acquire() as conn:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("UPDATE debates SET title = title")


async def test_a_listed_debate_reads_as_its_detail(client: Any, db: asyncpg.Connection, marker: str) -> None:
    # the list is written by PostgreSQL, the detail by the Python models: a client sees one debate
    ids = [
        await create_debate(db, chamber=marker, title="Séance « œuvre » n° 1", duration=73.13329166666665),
        await create_debate(
            db, chamber=marker, starts_at=None, duration=None, body=None, version=None, status="processing"
        ),
        await create_debate(
            db,
            chamber=marker,
            starts_at=dt.datetime(2026, 2, 1, 9, 30, 5, 123400, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        await create_debate(db, chamber=marker, duration=60.0),
    ]
    sources = {
        ids[0]: "file:///srv/r%C3%A9union/s%C3%A9ance%2010.mp4?x=1#t",
        ids[1]: "/home/robian/incoming/seance.wav",
        ids[2]: "HTTPS://videos.assemblee-nationale.fr/video.1234?timecode=5",
    }
    for debate_id, source in sources.items():
        await db.execute("UPDATE debates SET source_url = $2 WHERE id = $1", debate_id, source)
    resp = await client.get("/api/v1/debates", params={"chamber": marker, "status": "published,processing"})
    assert resp.status == 200
    listed = {item["id"]: item for item in (await resp.json())["items"]}
    assert set(listed) == {str(i) for i in ids}
    for debate_id in ids:
        detail = await (await client.get(f"/api/v1/debates/{debate_id}")).json()
        assert listed[str(debate_id)] == {k: v for k, v in detail.items() if k not in ("chapters", "stream")}
    assert listed[str(ids[0])]["source_url"] == "séance 10.mp4"  # a local file: its name only
    assert listed[str(ids[1])]["source_url"] == "seance.wav"
    assert listed[str(ids[2])]["source_url"] == sources[ids[2]]
    assert listed[str(ids[0])]["duration"] == 73.133
    assert listed[str(ids[2])]["starts_at"] == "2026-02-01T08:30:05.123400Z"

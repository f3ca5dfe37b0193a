"""/api/v1/speakers (+ interventions deep links) and /api/v1/programme."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import asyncpg

from robian_media.catalog.speaker_queries import LIST_SPEAKERS, SPEAKER_FILTERS, list_speakers
from tests.factories import create_chapters, create_debate, create_programme_item, create_speaker


async def pages(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        resp = await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_speakers_by_group_and_name_in_name_order(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    names = ["Émile Zola", "Anne Martin", "Éric Durand", "Claire Petit", "Bruno Lefèvre", "Denise Roux"]
    ids = {
        name: await create_speaker(db, name, group_id=marker, group_abbrev=marker, group_name="Groupe")
        for name in names
    }
    other = await create_speaker(db, "Anne Autre", group_abbrev=marker + "x")

    listed = await pages(client, "/api/v1/speakers", group=marker, limit=4)
    assert [s["name"] for s in listed] == sorted(names, key=lambda n: n.replace("É", "E").lower())
    assert other not in {s["id"] for s in listed}
    assert listed[0] == {
        "id": ids["Anne Martin"],
        "name": "Anne Martin",
        "group": marker,
        "group_id": marker,
        "group_name": "Groupe",
        "interventions_count": 0,
        "debates_count": 0,
    }
    assert [s["name"] for s in await pages(client, "/api/v1/speakers", group=marker.lower(), q="eri")] == [
        "Éric Durand"
    ]
    assert [s["name"] for s in await pages(client, "/api/v1/speakers", group=marker, q="lefe bru")] == [
        "Bruno Lefèvre"
    ]


async def test_interventions_link_into_each_sitting(client: Any, db: asyncpg.Connection, marker: str) -> None:
    speaker = await create_speaker(db, f"Paul {marker}", group_abbrev="EXDS")
    older = await create_debate(db, title="Mardi", starts_at=dt.datetime(2026, 3, 10, 14, tzinfo=dt.UTC))
    newer = await create_debate(db, title="Mercredi", starts_at=dt.datetime(2026, 3, 11, 14, tzinfo=dt.UTC))
    unpackaged = await create_debate(
        db,
        title="Jeudi",
        status="processing",
        version=None,
        starts_at=dt.datetime(2026, 3, 12, tzinfo=dt.UTC),
    )
    failed = await create_debate(db, title="Échec", status="failed", starts_at=None)
    for debate in (older, newer, unpackaged, failed):
        await create_chapters(
            db,
            debate,
            [
                {"start": 0, "end": 10, "speaker_name": "Le président"},
                {"start": 10, "end": 95.5, "speaker_id": speaker, "title": "Discussion générale"},
                {"start": 95.5, "end": 120, "speaker_id": speaker, "title": "Réponse"},
            ],
        )
    items = await pages(client, f"/api/v1/speakers/{speaker}/interventions", limit=2)
    assert [(i["debate_title"], i["index"]) for i in items] == [
        ("Jeudi", 1),
        ("Jeudi", 2),
        ("Mercredi", 1),
        ("Mercredi", 2),
        ("Mardi", 1),
        ("Mardi", 2),
    ]
    assert items[2] == {
        "debate_id": str(newer),
        "debate_title": "Mercredi",
        "debate_starts_at": "2026-03-11T14:00:00Z",
        "index": 1,
        "start": 10.0,
        "end": 95.5,
        "title": "Discussion générale",
        "master_url": f"http://media.test/hls/{newer}/master.m3u8",
        "excerpt": None,  # no words attached (DESIGN §8)
    }
    assert items[0]["master_url"] is None  # not packaged yet: nothing to play

    detail = await (await client.get(f"/api/v1/speakers/{speaker}")).json()
    assert detail["interventions_count"] == 8 and detail["debates_count"] == 4


async def test_unknown_speaker_is_404(client: Any) -> None:
    for path in (
        "/api/v1/speakers/PA0",
        "/api/v1/speakers/PA0/interventions",
        "/api/v1/speakers/%3Cscript%3E",
    ):
        resp = await client.get(path)
        assert resp.status == 404 and resp.content_type == "application/problem+json", path


async def test_programme_of_a_day_links_packaged_debates(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    day = dt.date(2090, 1, 1) + dt.timedelta(days=random.randrange(3000))
    morning = dt.datetime.combine(day, dt.time(8, 30), dt.UTC)
    packaged = await create_debate(db, title="Séance", agenda_uid=f"RU{marker}1")
    await create_debate(db, title="Commission", agenda_uid=f"RU{marker}2", status="processing", version=None)
    await create_programme_item(
        db,
        day=day,
        title="Questions au Gouvernement",
        agenda_uid=f"RU{marker}1",
        starts_at=morning + dt.timedelta(hours=5),
        topics=["Questions au Gouvernement"],
    )
    await create_programme_item(
        db,
        day=day,
        title="Audition",
        agenda_uid=f"RU{marker}2",
        starts_at=morning,
        body="Commission des finances",
        location="Salle 6350",
    )
    await create_programme_item(db, day=day + dt.timedelta(days=1), title="Le lendemain")

    resp = await client.get("/api/v1/programme", params={"date": day.isoformat()})
    assert resp.status == 200
    body = await resp.json()
    assert body["date"] == day.isoformat()
    audition, questions = body["items"]
    assert audition["title"] == "Audition" and audition["debate_status"] == "processing"
    assert audition["master_url"] is None and audition["location"] == "Salle 6350"
    assert questions["debate_id"] == str(packaged) and questions["debate_status"] == "published"
    assert questions["master_url"] == f"http://media.test/hls/{packaged}/master.m3u8"
    assert questions["starts_at"] == (morning + dt.timedelta(hours=5)).isoformat().replace("+00:00", "Z")
    assert questions["topics"] == ["Questions au Gouvernement"]


async def test_a_page_of_speakers_is_planned_once_per_connection(db: asyncpg.Connection, marker: str) -> None:
    # as the debates list: only the filters given are in the statement, so PostgreSQL keeps one
    # generic plan per shape instead of planning each request
    for name in ("Anne Martin", "Anne Morel", "Bruno Roux"):
        await create_speaker(db, name, group_abbrev=marker)
    for filters in ({"group": marker, "name_query": None}, {"group": marker, "name_query": "anne:*"}):
        for _ in range(10):
            speakers, _ = await list_speakers(
                db, group=filters["group"], name_query=filters["name_query"], limit=10, after=None
            )
            assert len(speakers) == (3 if filters["name_query"] is None else 2)
        sql = SPEAKER_FILTERS.statement(LIST_SPEAKERS, filters, after_key="", after_id="", limit=11).sql
        plans = await db.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", sql
        )
        assert plans is not None
        assert plans["generic_plans"] >= 5, dict(plans)

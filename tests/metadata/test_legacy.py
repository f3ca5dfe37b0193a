"""The existing mobile client's routes answer in the RobianAPI shapes, with the same data as /api/v1."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from robian_media.settings import Settings
from tests.factories import create_chapters, create_debate, create_programme_item, create_speaker

DEBAT_FIELDS = {
    "id",
    "title",
    "date",
    "duration",
    "type",
    "commission",
    "url_source",
    "url_stream",
    "thumbnail",
    "description",
    "intervenants",
    "status",
}


async def test_debats_list_in_the_old_shape(client: Any, db: asyncpg.Connection, marker: str) -> None:
    day = dt.datetime(2091, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=random.randrange(3000))
    speaker = await create_speaker(db, "Marie Dupont")
    seance = await create_debate(
        db,
        title="Séance publique",
        body=None,
        starts_at=day.replace(hour=23, minute=30),
        duration=5400.4,
        description="Discussion du projet de loi",
    )
    await create_chapters(
        db,
        seance,
        [
            {"start": 0, "end": 5, "speaker_name": "Le président"},
            {"start": 5, "end": 9, "speaker_id": speaker},
            {"start": 9, "end": 12, "speaker_name": "Le président"},
        ],
    )
    commission = await create_debate(
        db,
        title=f"Travaux {marker}",
        body="Commission des Finances",
        starts_at=day.replace(hour=8),
        status="processing",
        version=None,
    )
    audition = await create_debate(
        db,
        title="Audition du ministre",
        body="Commission des lois",
        starts_at=day.replace(hour=9),
        status="live",
    )
    window = {
        "date_debut": day.date().isoformat(),
        "date_fin": (day.date() + dt.timedelta(days=1)).isoformat(),
    }

    resp = await client.get("/api/debats", params=window)
    assert resp.status == 200
    debats = await resp.json()
    assert isinstance(debats, list) and all(set(d) == DEBAT_FIELDS for d in debats)
    assert [d["id"] for d in debats] == [str(seance), str(audition), str(commission)]
    first = debats[0]
    assert first == {
        "id": str(seance),
        "title": "Séance publique",
        "date": (day.date() + dt.timedelta(days=1)).isoformat(),  # 23:30 UTC is the next day in Paris
        "duration": 5400,
        "type": "seance_publique",
        "commission": None,
        "url_source": first["url_source"],
        "url_stream": f"http://media.test/hls/{seance}/master.m3u8",
        "thumbnail": None,
        "description": "Discussion du projet de loi",
        "intervenants": ["Le président", "Marie Dupont"],
        "status": "disponible",
    }
    assert (debats[1]["type"], debats[1]["commission"], debats[1]["status"]) == (
        "audition",
        "Commission des lois",
        "en_cours",
    )
    assert (debats[2]["type"], debats[2]["status"], debats[2]["url_stream"]) == (
        "commission",
        "extraction",
        None,
    )

    async def ids(**params: Any) -> list[str]:
        return [d["id"] for d in await (await client.get("/api/debats", params={**window, **params})).json()]

    assert await ids(type_debat="commission") == [str(commission)]
    assert await ids(commission="finances") == [str(commission)]
    assert await ids(limit=1) == [str(seance)]
    assert (await client.get("/api/debats", params={"limit": 500})).status == 200  # served as 100

    one = await (await client.get(f"/api/debats/{seance}")).json()
    assert one == first


async def test_debat_stream_and_file(client: Any, db: asyncpg.Connection, settings: Settings) -> None:
    ready = await create_debate(db)
    path = settings.media_root / str(ready) / "v1" / "download.m4a"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"m4a" * 100)
    assert await (await client.get(f"/api/debats/{ready}/stream")).json() == {
        "stream_url": f"/api/debats/{ready}/file",
        "status": "ready",
        "file_size": 300,
        "hls_url": f"http://media.test/hls/{ready}/master.m3u8",
    }
    file = await client.get(f"/api/debats/{ready}/file")
    assert file.status == 200 and await file.read() == b"m4a" * 100

    extracting = await create_debate(db, status="processing", version=None)
    assert await (await client.get(f"/api/debats/{extracting}/stream")).json() == {
        "stream_url": None,
        "status": "extracting",
        "message": "Extraction en cours, réessayez dans quelques minutes",
        "hls_url": None,
    }
    failed = await create_debate(db, status="failed", version=None)
    resp = await client.get(f"/api/debats/{failed}/stream")
    assert resp.status == 404 and "detail" in await resp.json(content_type=None)


async def test_unknown_debat_is_404_with_a_detail(client: Any) -> None:
    for path in ("/api/debats/debat_1", "/api/debats/debat_1/stream", "/api/debats/debat_1/file"):
        resp = await client.get(path)
        assert resp.status == 404
        assert (await resp.json(content_type=None))["detail"]


def paris_hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")


async def test_programme_in_the_old_shape(client: Any, db: asyncpg.Connection, marker: str) -> None:
    day = dt.date(2092, 1, 1) + dt.timedelta(days=random.randrange(3000))
    questions_at = dt.datetime.combine(day, dt.time(13, 0), dt.UTC)
    audition_at = dt.datetime.combine(day, dt.time(7, 30), dt.UTC)
    debate = await create_debate(db, agenda_uid=f"RU{marker}")
    await create_programme_item(
        db,
        day=day,
        title="Questions au Gouvernement",
        agenda_uid=f"RU{marker}",
        starts_at=questions_at,
        location="Hémicycle",
    )
    await create_programme_item(
        db,
        day=day,
        title="Audition",
        body="Commission des finances",
        location="Salle 6350",
        starts_at=audition_at,
    )
    resp = await client.get("/api/programme", params={"date_param": day.isoformat()})
    assert resp.status == 200
    assert await resp.json() == [
        {
            "date": day.isoformat(),
            "heure": paris_hhmm(audition_at),
            "titre": "Audition",
            "type": "commission",
            "commission": "Commission des finances",
            "salle": "Salle 6350",
            "url": None,
        },
        {
            "date": day.isoformat(),
            "heure": paris_hhmm(questions_at),
            "titre": "Questions au Gouvernement",
            "type": "seance_publique",
            "commission": None,
            "salle": "Hémicycle",
            "url": f"http://media.test/hls/{debate}/master.m3u8",
        },
    ]

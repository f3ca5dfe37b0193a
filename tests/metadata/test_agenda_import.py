"""Importing the AN agenda into the programme: the fixture, liberal shapes, re-imports, the CLI."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from robian_media.catalog.programme_import import import_agenda, parse_agenda
from tests.factories import create_debate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "an" / "agenda.json"


def fixture_with_uids(marker: str) -> list[dict[str, Any]]:
    """The fixture with réunion uids of this test's own, so other tests' imports never collide."""
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for wrapper in document:
        wrapper["reunion"]["uid"] += marker
    return document


def test_the_fixture_parses_into_three_items() -> None:
    items, skipped = parse_agenda(json.loads(FIXTURE.read_text(encoding="utf-8")))
    assert skipped == 0
    first, second, commission = items
    assert first.agenda_uid == "RUANR5L17S2026IDS29950"
    assert first.day == dt.date(2026, 3, 10)
    assert first.starts_at == dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    assert first.ends_at == dt.datetime(2026, 3, 10, 18, 30, tzinfo=dt.UTC)
    assert first.title.startswith("Discussion de la proposition de loi visant à renforcer l'accès aux soins")
    assert first.body == "Séance publique" and first.location == "Assemblée nationale"
    assert first.state == "Confirmé"
    assert second.ends_at is None and second.title.startswith("Suite de la discussion")  # pointODJ as a list
    assert commission.body == "Commission des affaires culturelles et de l'éducation"
    assert commission.location == "Salle 6350 – Palais Bourbon, 1er étage"
    assert commission.day == dt.date(2026, 3, 11)


def test_liberal_shapes() -> None:
    reunion = json.loads(FIXTURE.read_text(encoding="utf-8"))[0]["reunion"]
    bare = copy.deepcopy(reunion)
    no_points = copy.deepcopy(reunion) | {
        "uid": "RU2",
        "ODJ": {"pointsODJ": None, "resumeODJ": {"item": "Résumé"}},
    }
    no_odj = copy.deepcopy(reunion) | {
        "uid": "RU3",
        "ODJ": None,
        "@xsi:type": "reunionCommission_type",
        "demandeurs": None,
        "organeReuniRef": "PO419604",
    }
    no_start = copy.deepcopy(reunion) | {"uid": "RU4", "timeStampDebut": None}
    no_uid = {k: v for k, v in reunion.items() if k != "uid"}
    items, skipped = parse_agenda(
        {"reunions": {"reunion": [bare, {"reunion": no_points}, no_odj, no_start, no_uid]}}
    )
    assert [i.agenda_uid for i in items] == [reunion["uid"], "RU2", "RU3"]
    assert skipped == 2
    assert items[1].title == "Résumé" and items[1].topics == ["Résumé"]
    assert items[2].title == "PO419604" and items[2].topics == []
    assert parse_agenda({"reunion": bare})[0] == parse_agenda(bare)[0]


async def test_import_upserts_by_uid_and_links_debates(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    document = fixture_with_uids(marker)
    debate = await create_debate(db, title="Séance", agenda_uid="RUANR5L17S2026IDS29950" + marker)
    result = await import_agenda(db, [document])
    assert (result.inserted, result.updated, result.skipped) == (3, 0, 0)

    document[0]["reunion"]["ODJ"]["pointsODJ"]["pointODJ"]["objet"] = "Ordre du jour modifié"
    result = await import_agenda(db, [document])
    assert (result.inserted, result.updated) == (0, 3)

    programme = await (await client.get("/api/v1/programme", params={"date": "2026-03-10"})).json()
    ours = [item for item in programme["items"] if item["agenda_uid"].endswith(marker)]
    assert [item["title"] for item in ours][:1] == ["Ordre du jour modifié"]
    assert len(ours) == 2
    assert ours[0]["debate_id"] == str(debate)
    assert ours[0]["master_url"] == f"http://media.test/hls/{debate}/master.m3u8"
    assert ours[1]["debate_id"] is None


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "robian_media.cli",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_imports_a_file_and_drops_cached_programmes(
    tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, marker: str, db: asyncpg.Connection
) -> None:
    path = tmp_path / "agenda.json"
    path.write_text(json.dumps(fixture_with_uids(marker)), encoding="utf-8")
    redis = Redis.from_url(redis_url)
    cached = f"{redis_prefix}cache:metadata:programme:2026-03-10"
    await redis.set(cached, b"stale")
    await redis.sadd(f"{redis_prefix}cache:index:metadata", cached)
    env = {
        "ROBIAN_DATABASE_URL": database_url,
        "ROBIAN_REDIS_URL": redis_url,
        "ROBIAN_REDIS_PREFIX": redis_prefix,
        "ROBIAN_DATA_DIR": str(tmp_path),
        "ROBIAN_LOG_JSON": "false",
    }
    code, out, err = await run_cli("import-agenda", str(path), env=env)
    assert code == 0, err
    assert out.strip() == "agenda: 3 new, 0 updated, 0 skipped"
    assert (
        await db.fetchval("SELECT count(*) FROM programme_items WHERE agenda_uid LIKE '%' || $1", marker) == 3
    )
    assert await redis.get(cached) is None
    await redis.aclose()

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    code, _, err = await run_cli("import-agenda", str(broken), env=env)
    assert code != 0 and "is not JSON" in err

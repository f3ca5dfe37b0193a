"""Each kind of source ends as a published debate: HLS master, AN portal video (+ compte rendu), file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from tests.ingest.conftest import ffmpeg_reads, submit, wait_job
from tests.ingest.media import copy_into
from tests.ingest.origin import PORTAL_UID, Origin

# tests/fixtures/an/compte-rendu-short.xml: a speaker change opens a chapter; the interruption at
# 11.80 s and the second paragraph of the same speaker at 10.10 s do not
CR_CHAPTERS = [
    (1.20, "PA841101", "Claire Martin", None, "Ouverture de la séance"),
    (4.54, "PA841202", "Jean Dupont", "EXDS", "Accès aux soins de proximité"),
    (16.10, "PA841303", "Amina Benali", "EXDS", "Accès aux soins de proximité"),
    (24.40, "PA841101", "Claire Martin", None, "Accès aux soins de proximité"),
    (27.05, "PA841404", "Luc Moreau", None, "Accès aux soins de proximité"),
    (33.30, "PA841101", "Claire Martin", None, "Fin de la séance"),
]
# tests/fixtures/an/finalplayer-short.nvs joined with data.nvs: interventions only
PORTAL_CHAPTERS = [
    (1.0, "PA841101", "Ouverture de la séance"),
    (4.0, "PA841202", "Proposition de loi visant à renforcer l'accès aux soins de proximité"),
    (16.0, "PA841303", "Proposition de loi visant à renforcer l'accès aux soins de proximité"),
    (27.0, "PA841404", "Proposition de loi visant à renforcer l'accès aux soins de proximité"),
    (33.0, "PA841101", "Levée de la séance"),
]


async def published(database_url: str, debate_id: str) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    conn = await asyncpg.connect(database_url)
    try:
        debate = await conn.fetchrow("SELECT * FROM debates WHERE id = $1", debate_id)
        chapters = await conn.fetch(
            "SELECT c.*, s.group_id, s.group_name FROM chapters c LEFT JOIN speakers s ON s.id = c.speaker_id"
            " WHERE c.debate_id = $1 ORDER BY c.idx",
            debate_id,
        )
    finally:
        await conn.close()
    return debate, chapters


async def test_an_hls_master_is_ingested(ingest_client: TestClient[Any, Any], origin: Origin) -> None:
    status, accepted = await submit(ingest_client, origin.url("/files/hls/master.m3u8"))
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    await ffmpeg_reads(str(ingest_client.make_url(f"/hls/{accepted['debate_id']}/master.m3u8")))


async def test_an_portal_video_with_its_compte_rendu_gets_the_speakers_chapters(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    status, accepted = await submit(
        ingest_client, origin.portal_url + "?timecode=4000", compte_rendu_url=origin.url("/cr.xml")
    )
    assert status == 202, accepted
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    debate, chapters = await published(database_url, accepted["debate_id"])
    assert debate["title"] == "Accès aux soins de proximité"
    assert debate["body"] == "Séance publique"
    assert debate["agenda_uid"] == "RUANR5L17S2026IDS29950"
    assert debate["source_key"] == origin.url(f"/video.{PORTAL_UID}")
    # the video's start (finalplayer starttime), to which every offset is relative
    assert debate["starts_at"] == datetime(2026, 3, 10, 13, 58, 12, tzinfo=UTC)
    got = [
        (c["start_s"], c["speaker_id"], c["speaker_name"], c["speaker_group"], c["title"]) for c in chapters
    ]
    assert [g[1:] for g in got] == [c[1:] for c in CR_CHAPTERS]
    for (start, *_), expected in zip(got, CR_CHAPTERS, strict=True):
        assert abs(start - expected[0]) < 0.05  # moved onto an AAC frame boundary at most
    by_id = {c["speaker_id"]: c for c in chapters}
    assert (by_id["PA841202"]["group_id"], by_id["PA841202"]["group_name"]) == (
        "PO845401",
        "Groupe Exemple démocrate et social",
    )
    assert by_id["PA841404"]["group_id"] == "PO845403"  # its organe is not published: no name, no failure
    await ffmpeg_reads(str(ingest_client.make_url(f"/hls/{accepted['debate_id']}/master.m3u8")))
    vtt = await (await ingest_client.get(f"/hls/{accepted['debate_id']}/v1/chapters.vtt")).text()
    assert "Luc Moreau — Accès aux soins de proximité" in vtt


async def test_an_portal_video_alone_uses_the_portal_timeline(
    ingest_client: TestClient[Any, Any], origin: Origin, database_url: str
) -> None:
    status, accepted = await submit(ingest_client, origin.portal_url)
    assert status == 202, accepted
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    debate, chapters = await published(database_url, accepted["debate_id"])
    assert debate["title"] == "Proposition de loi visant à renforcer l'accès aux soins de proximité"
    assert [(c["speaker_id"], c["title"]) for c in chapters] == [c[1:] for c in PORTAL_CHAPTERS]
    assert [round(c["start_s"]) for c in chapters] == [round(c[0]) for c in PORTAL_CHAPTERS]
    # data.nvs offers the audio rendition: that is what was fetched
    assert any(path.endswith(".mp3") and status == 200 for path, status in origin.requests)


async def test_a_local_file_in_the_inbox_is_ingested_and_one_elsewhere_refused(
    aiohttp_client: Any, ingest_settings: Any, media: Path, tmp_path: Path
) -> None:
    settings = ingest_settings()
    client = await aiohttp_client(create_app(settings))
    inside = copy_into(media / "speech.m4a", settings.data_dir / "inbox")
    status, accepted = await submit(client, inside.as_uri())
    assert status == 202, accepted
    job = await wait_job(client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert inside.exists()  # the operator's file is left where it was

    outside = copy_into(media / "speech.m4a", tmp_path / "elsewhere")
    for source in (str(outside), outside.as_uri(), (settings.data_dir / "inbox" / ".." / "..").as_posix()):
        status, problem = await submit(client, source)
        assert status == 422, (source, problem)
        assert "ROBIAN_INGEST_LOCAL_DIRS" in problem["detail"] or "No file" in problem["detail"]

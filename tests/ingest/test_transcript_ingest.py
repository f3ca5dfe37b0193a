"""The words of a sitting from its compte rendu or the ingest body (DESIGN §8), through to the API:
the transcript route, the stream's links, passage search and the interventions' excerpts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.ingest.sources.an_compte_rendu import parse_compte_rendu
from robian_media.web import keys
from tests.events.clients import events_until
from tests.ingest.conftest import AUTH, submit, wait_job
from tests.ingest.origin import Origin
from tests.ingest.test_worker_kill import worker_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "an"
NBSP = "\u00a0"
DUPONT = (
    "Madame la présidente, mes chers collègues, ce texte répond à une attente forte de nos territoires"
    f"{NBSP}: c’est le vœu de nos concitoyens, au cœur de la République. Soins & proximité ne s’opposent pas."
)
BENALI = (
    "Nous soutiendrons ce texte, sous réserve de l'adoption de nos amendements. "
    f"(« Très bien{NBSP}! » sur les bancs du groupe EcoS.) "
    "Les œuvres sociales des hôpitaux doivent être préservées."
)


def test_the_compte_rendu_gives_one_plain_text_paragraph_per_stime() -> None:
    cr = parse_compte_rendu((FIXTURES / "compte-rendu-transcript.xml").read_bytes())
    got = [(p.start, p.speaker.id, p.speaker.name, p.text) for p in cr.transcript]
    assert got == [
        (1.2, "PA841101", "Claire Martin", "La séance est ouverte."),
        (4.54, "PA841202", "Jean Dupont", DUPONT),  # entities, <br/>, œ, no-break space
        (10.1, "PA841202", "Jean Dupont", "L'article 1er crée un guichet unique dans chaque département."),
        # an interruption is words too; the stage direction without stime or speaker joins it
        (
            11.8,
            "PA841404",
            "Luc Moreau",
            "Avec quels moyens ? (Applaudissements sur les bancs du groupe EXDS.)",
        ),
        (16.1, "PA841303", "Amina Benali", BENALI),  # the paragraph without stime joined
        (24.4, "PA841101", "Claire Martin", "La parole est à M. Luc Moreau."),
        (27.05, "PA841404", "Luc Moreau", "Ce texte ne règle rien tant que le financement n'est pas assuré."),
        (33.3, "PA841101", "Claire Martin", "La séance est levée."),
    ]


async def test_a_bad_transcript_in_the_body_is_a_422_naming_the_paragraph(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    url = origin.url("/files/speech.m4a?words")
    paragraphs = [
        {"start": 0, "speaker": {"name": "Claire Martin"}, "text": "La séance est ouverte."},
        {"start": 3, "speaker": {"name": "Jean Dupont"}, "text": "x" * 100_001},
    ]
    status, problem = await submit(ingest_client, url, transcript=paragraphs)
    assert status == 422, problem
    assert problem["errors"][0]["location"] == "body.transcript.1.text"
    status, problem = await submit(
        ingest_client, url, transcript=[{"start": -1, **paragraphs[0]} | {"start": -1}]
    )
    assert status == 422 and problem["errors"][0]["location"] == "body.transcript.0.start"


async def test_a_transcript_outside_the_sitting_fails_the_job_naming_the_paragraph(
    ingest_client: TestClient[Any, Any], origin: Origin, tmp_path: Path
) -> None:
    paragraphs = [
        {"start": 0, "speaker": {"name": "Claire Martin"}, "text": "La séance est ouverte."},
        {"start": 500, "speaker": {"name": "Jean Dupont"}, "text": "Trop tard."},
    ]
    status, accepted = await submit(
        ingest_client, origin.url("/files/speech.m4a?late-words"), transcript=paragraphs
    )
    assert status == 202
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "failed"
    assert "paragraph 1 (Jean Dupont): starts at 500.000 s, outside the sitting" in job["error"]
    assert not list((tmp_path / "data" / "media" / accepted["debate_id"]).glob("v*/master.m3u8"))


@pytest.fixture
async def worded_debate(ingest_client: TestClient[Any, Any], origin: Origin) -> str:
    status, accepted = await submit(
        ingest_client, origin.portal_url + "?words", compte_rendu_url=origin.url("/cr-words.xml")
    )
    assert status == 202, accepted
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded", job
    return str(accepted["debate_id"])


async def test_the_words_are_served_linked_and_searchable(
    ingest_client: TestClient[Any, Any], worded_debate: str
) -> None:
    debate_id = worded_debate
    response = await ingest_client.get(f"/api/v1/debates/{debate_id}/transcript")
    assert response.status == 200
    transcript = await response.json()
    assert (transcript["debate_id"], transcript["version"], transcript["source"]) == (
        debate_id,
        1,
        "compte_rendu",
    )
    paragraphs = transcript["paragraphs"]
    assert [p["index"] for p in paragraphs] == list(range(1, 9))
    dupont = paragraphs[1]
    assert dupont["text"] == DUPONT and dupont["start"] == 4.54 and dupont["end"] == 10.1
    # groups come from AN open data, like the chapters'
    assert dupont["speaker"] == {"id": "PA841202", "name": "Jean Dupont", "group": "EXDS"}
    assert dupont["chapter"] == 2

    stream = await (await ingest_client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    assert stream["subtitles_url"].endswith(f"/hls/{debate_id}/v1/subs/index.m3u8")
    assert stream["transcript_url"].endswith(f"/hls/{debate_id}/v1/transcript.vtt")
    vtt = await ingest_client.get(f"/hls/{debate_id}/v1/transcript.vtt")
    assert vtt.status == 200 and vtt.content_type == "text/vtt"
    assert "<v Jean Dupont (EXDS)>" in await vtt.text()
    # FFmpeg (an HLS client) reads the subtitle rendition and finds the words at their times
    subs = str(ingest_client.make_url(f"/hls/{debate_id}/v1/subs/index.m3u8"))
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-nostdin", "-i", subs, "-f", "webvtt", "-",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert "00:04.540 --> " in out.decode() and "Madame la présidente" in out.decode()

    # accent-blind, stemmed, ranked; the start is the cue where the words are said
    response = await ingest_client.get(
        "/api/v1/search", params={"q": "voeu des concitoyens", "kind": "passage"}
    )
    # other tests' sittings share this database: this sitting's hits are what is judged
    hits = [h for h in (await response.json())["items"] if h["debate_id"] == debate_id]
    assert [h["kind"] for h in hits] == ["passage"]
    hit = hits[0]
    assert "vœu de nos concitoyens" in hit["title"]
    assert hit["debate_id"] == debate_id and hit["speaker"]["name"] == "Jean Dupont"
    assert 4.54 < hit["start"] < 10.1 and hit["start"] < hit["end"] <= 10.1
    assert hit["master_url"].endswith(f"/hls/{debate_id}/master.m3u8")
    response = await ingest_client.get("/api/v1/search", params={"q": "oeuvres sociales"})
    passages = [
        h for h in (await response.json())["items"] if h["kind"] == "passage" and h["debate_id"] == debate_id
    ]
    assert [h["speaker"]["name"] for h in passages] == ["Amina Benali"]
    assert 16.1 < passages[0]["start"] < 24.4  # said after the first cue of the paragraph

    response = await ingest_client.get("/api/v1/speakers/PA841303/interventions")
    items = [i for i in (await response.json())["items"] if i["debate_id"] == debate_id]
    assert [i["excerpt"][:40] for i in items] == [BENALI[:40]]


async def test_a_debate_without_words_answers_404_and_null_links(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    _status, accepted = await submit(ingest_client, origin.url("/files/speech.m4a?no-words"))
    job = await wait_job(ingest_client, accepted["job_id"])
    assert job["status"] == "succeeded"
    response = await ingest_client.get(f"/api/v1/debates/{accepted['debate_id']}/transcript")
    assert response.status == 404 and response.content_type == "application/problem+json"
    stream = await (await ingest_client.get(f"/api/v1/debates/{accepted['debate_id']}/stream")).json()
    assert (stream["subtitles_url"], stream["transcript_url"]) == (None, None)
    await asyncio.sleep(0)


async def attach(client: TestClient[Any, Any], debate_id: str, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post(f"/api/v1/debates/{debate_id}/compte-rendu", json=body, headers=AUTH)
    return response.status, await response.json()


async def test_a_compte_rendu_sent_while_packaging_waits_then_publishes_a_recut_version(
    ingest_client: TestClient[Any, Any], origin: Origin, tmp_path: Path
) -> None:
    bus = ingest_client.app[keys.EVENT_BUS]
    status, accepted = await submit(ingest_client, origin.portal_url + "?later")
    assert status == 202
    debate_id = accepted["debate_id"]
    subscription = bus.subscribe([f"debate:{debate_id}"])
    # sent at once: the sitting is still being fetched and packaged, the job waits for it
    status, attached = await attach(ingest_client, debate_id, compte_rendu_url=origin.url("/cr-words.xml"))
    assert status == 202 and attached["debate_id"] == debate_id
    first = await wait_job(ingest_client, accepted["job_id"])
    assert first["status"] == "succeeded", first
    job = await wait_job(ingest_client, attached["job_id"])
    assert job["status"] == "succeeded", job
    assert job["kind"] == "compte_rendu"

    transcript = await (await ingest_client.get(f"/api/v1/debates/{debate_id}/transcript")).json()
    assert transcript["version"] == 2 and len(transcript["paragraphs"]) == 8
    before = await (await ingest_client.get(f"/hls/{debate_id}/v1/chapters.json")).json()
    chapters = await (await ingest_client.get(f"/api/v1/debates/{debate_id}/chapters")).json()
    # the compte rendu's chapters replace the portal's (one per change of speaker, its own times)
    names = ["Claire Martin", "Jean Dupont", "Amina Benali", "Claire Martin", "Luc Moreau", "Claire Martin"]
    assert [c["speaker"]["name"] for c in chapters] == names
    assert abs(chapters[1]["start"] - 4.54) < 0.05 and abs(before[1]["start-time"] - 4.54) > 0.5
    stream = await (await ingest_client.get(f"/api/v1/debates/{debate_id}/stream")).json()
    assert stream["subtitles_url"].endswith("/v2/subs/index.m3u8")
    master = await (await ingest_client.get(f"/hls/{debate_id}/master.m3u8")).text()
    assert "v2/" in master and 'SUBTITLES="subs"' in master
    # listeners on the first version keep it: immutable, still served
    assert (await ingest_client.get(f"/hls/{debate_id}/v1/master.m3u8")).status == 200

    def announced(seen: list[Any]) -> list[int]:
        return [e.data["version"] for e in seen if e.type == "debate.updated" and not e.data.get("playable")]

    events = await events_until(subscription, lambda seen: bool(announced(seen)), timeout=30)
    bus.unsubscribe(subscription)
    assert announced(events) == [2]


async def test_a_bad_compte_rendu_fails_and_leaves_the_published_version(
    ingest_client: TestClient[Any, Any], origin: Origin
) -> None:
    status, accepted = await submit(ingest_client, origin.url("/files/speech.m4a?bad-cr"))
    assert (await wait_job(ingest_client, accepted["job_id"]))["status"] == "succeeded"
    debate_id = accepted["debate_id"]
    master = await (await ingest_client.get(f"/hls/{debate_id}/master.m3u8")).text()
    status, attached = await attach(
        ingest_client, debate_id, compte_rendu_url=origin.url("/files/not-audio.m4a")
    )
    assert status == 202
    job = await wait_job(ingest_client, attached["job_id"])
    assert job["status"] == "failed" and "compte rendu" in job["error"]
    assert await (await ingest_client.get(f"/hls/{debate_id}/master.m3u8")).text() == master
    assert (await ingest_client.get(f"/api/v1/debates/{debate_id}/transcript")).status == 404

    # refused before any job: neither or both sources, an unknown debate, no admin token
    status, problem = await attach(ingest_client, debate_id)
    assert status == 422 and problem["errors"][0]["location"] == "body"
    status, _ = await attach(
        ingest_client, "00000000-0000-0000-0000-000000000000", compte_rendu_url=origin.url("/cr.xml")
    )
    assert status == 404
    response = await ingest_client.post(
        f"/api/v1/debates/{debate_id}/compte-rendu", json={"compte_rendu_url": "x"}
    )
    assert response.status == 401


async def test_attach_cr_command_attaches_a_compte_rendu_file(
    aiohttp_client: Any, ingest_settings: Any, origin: Origin
) -> None:
    settings = ingest_settings(workers=0)
    server = await aiohttp_client(create_app(settings))
    env = worker_env(settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robian_media.cli", "ingest", origin.url("/files/speech.m4a?cli-cr"), "--wait",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    debate_id = out.decode().splitlines()[0].split()[-1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robian_media.cli", "attach-cr", debate_id,
        str(FIXTURES / "compte-rendu-transcript.xml"), "--wait",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    assert out.decode().splitlines()[-1].endswith(f"/hls/{debate_id}/master.m3u8")
    transcript = await (await server.get(f"/api/v1/debates/{debate_id}/transcript")).json()
    assert transcript["version"] == 2 and transcript["paragraphs"][4]["text"] == BENALI
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "robian_media.cli", "attach-cr", "not-an-id", "x.xml",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and "not a debate id" in err.decode()

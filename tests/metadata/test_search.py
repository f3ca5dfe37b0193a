"""French full-text search (accents optional, stemming, ranking) and type-ahead suggestions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from tests.factories import create_chapters, create_debate, create_speaker, create_words


async def search(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        resp = await client.get("/api/v1/search", params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_accents_are_optional_both_ways(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate = await create_debate(db, title=f"Séance publique {marker}")
    await create_chapters(
        db,
        debate,
        [
            {
                "start": 0,
                "end": 90,
                "speaker_name": "Mme Hélène Garnier",
                "title": f"La députée {marker} interroge le ministre",
            }
        ],
    )
    unaccented = await create_debate(db, title=f"Seance de nuit {marker}")

    hits = await search(client, q=f"seance {marker}", kind="debate")
    assert {h["debate_id"] for h in hits} == {str(debate), str(unaccented)}
    hits = await search(client, q=f"séance {marker}", kind="debate")
    assert {h["debate_id"] for h in hits} == {str(debate), str(unaccented)}

    hits = await search(client, q=f"deputee {marker}")
    assert [(h["kind"], h["debate_id"], h["index"]) for h in hits] == [("chapter", str(debate), 0)]
    chapter = hits[0]
    assert chapter["title"] == f"La députée {marker} interroge le ministre"
    assert chapter["debate_title"] == f"Séance publique {marker}"
    assert chapter["speaker"] == {"id": None, "name": "Mme Hélène Garnier", "group": None}
    assert chapter["start"] == 0 and chapter["master_url"].endswith(f"/hls/{debate}/master.m3u8")
    assert chapter["rank"] > 0

    # French stemming: a plural finds the singular
    assert await search(client, q=f"séances {marker}", kind="debate")


async def test_speakers_are_found_by_name_without_accents(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    speaker = await create_speaker(db, f"Éloïse Lefèvre {marker}", group_abbrev="EXDS")
    hits = await search(client, q=f"eloise lefevre {marker}", kind="speaker")
    assert hits == [
        {
            "kind": "speaker",
            "rank": hits[0]["rank"],
            "title": f"Éloïse Lefèvre {marker}",
            "debate_id": None,
            "debate_title": None,
            "starts_at": None,
            "master_url": None,
            "index": None,
            "start": None,
            "end": None,
            "speaker": None,
            "speaker_id": speaker,
            "group": "EXDS",
        }
    ]


async def test_title_matches_rank_above_description_matches(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    in_description = await create_debate(
        db, title=f"Séance {marker}", description="Discussion du budget de la santé"
    )
    in_title = await create_debate(db, title=f"Budget de la santé {marker}")
    hits = await search(client, q=f"budget {marker}", kind="debate")
    assert [h["debate_id"] for h in hits] == [str(in_title), str(in_description)]
    assert hits[0]["rank"] > hits[1]["rank"]


async def test_results_page_without_repeats(client: Any, db: asyncpg.Connection, marker: str) -> None:
    debate = await create_debate(db, title=f"Longue séance {marker}")
    await create_chapters(
        db, debate, [{"start": i, "end": i + 1, "title": f"Amendement {marker} n° {i}"} for i in range(23)]
    )
    hits = await search(client, q=f"amendement {marker}", limit=10)
    assert sorted(h["index"] for h in hits) == list(range(23))


async def test_hidden_debates_are_not_found(client: Any, db: asyncpg.Connection, marker: str) -> None:
    await create_debate(db, title=f"Séance annulée {marker}", status="cancelled")
    assert await search(client, q=f"annulee {marker}") == []


async def test_passages_rank_by_their_words_then_newest_sitting(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    older = await create_debate(
        db, title=f"Séance {marker} de mars", starts_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    )
    newer = await create_debate(
        db, title=f"Séance {marker} d'avril", starts_at=dt.datetime(2026, 4, 7, tzinfo=dt.UTC)
    )
    await create_words(
        db,
        older,
        [
            f"Madame la présidente, nous examinons le texte. Le vœu {marker} du conseil municipal, "
            f"puis un second vœu {marker} pour les communes rurales.",
            "Rien de ce qui est cherché ici, seulement la discussion générale du projet de loi de finances.",
            f"Je rappelle enfin le vœu {marker} déposé hier.",
        ],
    )
    await create_words(db, newer, [f"Mon vœu {marker} pour la commune."])

    hits = await search(client, q=f"voeu {marker}", kind="passage", limit=2)  # pages of 2
    # twice the words first; then, equally ranked, the newest sitting first
    assert [(h["debate_id"], h["index"]) for h in hits] == [(str(older), 1), (str(newer), 1), (str(older), 3)]
    assert hits[0]["rank"] > hits[1]["rank"] == hits[2]["rank"]
    assert (
        hits[0]["debate_title"] == f"Séance {marker} de mars"
        and hits[1]["debate_title"] == f"Séance {marker} d'avril"
    )
    assert hits[0]["speaker"] == {"id": "PA0", "name": "Député 0", "group": "EXDS"}
    assert f"Le vœu {marker} du conseil" in hits[0]["title"]
    assert 0 < hits[0]["start"] < 30  # the cue where the words are said, after the paragraph's first
    assert hits[2]["start"] == 60 and hits[2]["master_url"].endswith(f"/hls/{older}/master.m3u8")

    # a sitting taken out of the catalogue is no longer searched; its words come back with it
    await db.execute("UPDATE debates SET status = 'cancelled' WHERE id = $1", newer)
    hits = await search(client, q=f"vœu {marker}", kind="passage")
    assert [(h["debate_id"], h["index"]) for h in hits] == [(str(older), 1), (str(older), 3)]
    await db.execute("UPDATE debates SET status = 'published' WHERE id = $1", newer)
    hits = await search(client, q=f"le vœu {marker}", kind="passage")
    assert [(h["debate_id"], h["index"]) for h in hits] == [(str(older), 1), (str(newer), 1), (str(older), 3)]
    # words of a version that is not the published one are not searched
    await db.execute("UPDATE debates SET current_version = 2 WHERE id = $1", older)
    hits = await search(client, q=f"un vœu {marker}", kind="passage")
    assert [(h["debate_id"], h["index"]) for h in hits] == [(str(newer), 1)]


async def suggest(client: Any, typed: str) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/search/suggestions", params={"q": typed})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


async def test_suggestions_complete_names_and_titles(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    speaker = await create_speaker(db, f"Zoé {marker}ŒUVRE")
    debate = await create_debate(db, title=f"Projet de loi {marker} relatif à l'énergie")

    # the start of the full name, accents and case optional (btree prefix)
    assert {"kind": "speaker", "text": f"Zoé {marker}ŒUVRE", "id": speaker} in await suggest(
        client, f"zoe {marker.lower()}"
    )
    # the start of any word of the name
    assert [s["id"] for s in await suggest(client, f"{marker[:-1]}") if s["kind"] == "speaker"] == [speaker]
    # a title from its words, the last one typed partly
    assert {"kind": "debate", "text": f"Projet de loi {marker} relatif à l'énergie", "id": str(debate)} in (
        await suggest(client, f"{marker} ener")
    )
    assert len(await suggest(client, "a")) <= 10


async def test_a_search_of_too_many_words_is_refused(
    client: Any, db: asyncpg.Connection, marker: str
) -> None:
    """``a or b or … or zz`` made PostgreSQL rank every match of every word (issue #22, item 5)."""
    debate = await create_debate(db, title=f"Séance {marker}")
    await create_chapters(
        db, debate, [{"start": 0, "end": 9, "speaker_name": "M. A", "title": f"alpha {marker}"}]
    )
    broad = " or ".join(["alpha", *(f"w{n}" for n in range(25))])
    resp = await client.get("/api/v1/search", params={"q": broad})
    problem = await resp.json(content_type=None)
    assert resp.status == 422 and problem["errors"][0]["location"] == "query.q"
    assert "at most 12 words" in problem["errors"][0]["message"]
    # twelve words, "or" included, are still a search
    hits = await search(client, q=f"{marker} or " + " or ".join(f"w{n}" for n in range(5)))
    assert {h["debate_id"] for h in hits} == {str(debate)}

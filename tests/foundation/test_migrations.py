import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg

from packager.captions import build_cues
from packager.chapters import Speaker
from packager.transcript import Paragraph
from robian_media.catalog.search_queries import search
from robian_media.db.migrate import migrate, migration_files
from robian_media.media.urls import MediaUrls
from tests.factories import connect, create_debate
from tests.services import fresh_database


async def _applied(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [
            r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        ]
    finally:
        await conn.close()


def test_migrations_apply_once_and_are_idempotent(pg_admin_dsn: str) -> None:
    expected = [p.stem for p in migration_files()]

    async def scenario(dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            assert await migrate(conn) == expected
            assert await migrate(conn) == []
            tables = {
                r["tablename"]
                for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            }
        finally:
            await conn.close()
        assert {"debates", "renditions", "chapters", "speakers", "programme_items", "jobs"} <= tables
        assert await _applied(dsn) == expected

    with fresh_database(pg_admin_dsn, f"robian_mig_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(scenario(dsn))


def test_two_migrators_at_once_apply_each_migration_exactly_once(pg_admin_dsn: str) -> None:
    async def scenario(dsn: str) -> None:
        conns = [await asyncpg.connect(dsn) for _ in range(3)]
        try:
            results = await asyncio.gather(*(migrate(c) for c in conns))
        finally:
            for c in conns:
                await c.close()
        applied = [name for result in results for name in result]
        assert sorted(applied) == [p.stem for p in migration_files()]
        assert await _applied(dsn) == [p.stem for p in migration_files()]

    with fresh_database(pg_admin_dsn, f"robian_mig_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(scenario(dsn))


def test_french_search_is_accent_insensitive(pg_admin_dsn: str) -> None:
    async def scenario(dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
            await conn.execute(
                "INSERT INTO debates (title, source_url, source_key) VALUES ($1, 'u', 'u')",
                "Séance publique : intervention de la députée",
            )
            query = (
                "SELECT count(*) FROM debates WHERE search @@ plainto_tsquery('french', robian_unaccent($1))"
            )
            assert await conn.fetchval(query, "seance deputee") == 1
            assert await conn.fetchval(query, "SÉANCES") == 1
            assert await conn.fetchval(query, "budget") == 0
        finally:
            await conn.close()

    with fresh_database(pg_admin_dsn, f"robian_mig_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(scenario(dsn))


def test_words_published_before_the_passage_tables_stay_searchable(pg_admin_dsn: str, tmp_path: Path) -> None:
    """0011 moves the paragraphs' vectors to transcript_search, 0012 the cues' into the paragraph rows: a
    database with words fills both, and a hit still starts at the cue where its words are said."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in migration_files():
        if path.name < "0011":
            shutil.copy(path, before / path.name)
    texts = [
        "Madame la présidente, mes chers collègues.",
        "Mes chers collègues, la séance est ouverte et nous commençons par les questions au "
        "gouvernement. Le vœu du conseil régional est adopté à l'unanimité.",
    ]
    paragraphs = [
        Paragraph(
            index=n + 1, start=30.0 * n, end=30.0 * (n + 1), speaker=Speaker(id=f"PA{n}", name="X"), text=t
        )
        for n, t in enumerate(texts)
    ]
    cues = build_cues(paragraphs)
    said = next(cue for cue in cues if "vœu" in cue.text)
    assert said.start > paragraphs[1].start  # the words are not at the paragraph's start

    async def scenario(dsn: str) -> None:
        conn = await connect(dsn)
        try:
            await migrate(conn, before)
            debate = await create_debate(conn, title="Séance publique")
            # the words as publishing stored them then: paragraphs, and a table of cues
            await conn.execute(
                "INSERT INTO transcripts (debate_id, version, source) VALUES ($1, 1, 'request')", debate
            )
            await conn.executemany(
                "INSERT INTO transcript_paragraphs (debate_id, idx, start_s, end_s, speaker_name, body)"
                " VALUES ($1, $2, $3, $4, 'X', $5)",
                [(debate, p.index, p.start, p.end, p.text) for p in paragraphs],
            )
            await conn.executemany(
                "INSERT INTO transcript_cues (debate_id, paragraph, idx, start_s, end_s, body)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [(debate, c.paragraph, n, c.start, c.end, c.text) for n, c in enumerate(cues)],
            )
            assert await migrate(conn) == ["0011_passage_search", "0012_passage_cues"]
            urls = MediaUrls("http://test")
            hits = await search(conn, "voeu", kinds=("passage",), limit=5, offset=0, urls=urls)
            assert [(h.debate_id, h.index, h.start, h.end) for h in hits.items] == [
                (debate, 2, said.start, said.end)
            ]
            hits = await search(conn, "présidente", kinds=("passage",), limit=5, offset=0, urls=urls)
            assert [(h.index, h.start) for h in hits.items] == [(1, 0.0)]
        finally:
            await conn.close()

    with fresh_database(pg_admin_dsn, f"robian_mig_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(scenario(dsn))

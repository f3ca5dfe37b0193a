import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg

from robian_media.catalog.search_queries import search
from robian_media.db.migrate import migrate, migration_files
from robian_media.media.urls import MediaUrls
from tests.factories import connect, create_debate, create_words
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


def test_words_published_before_the_passage_search_table_stay_searchable(
    pg_admin_dsn: str, tmp_path: Path
) -> None:
    """0011 moves the paragraphs' vectors to transcript_search: a database with words fills it."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in migration_files():
        if path.name < "0011":
            shutil.copy(path, before / path.name)

    async def scenario(dsn: str) -> None:
        conn = await connect(dsn)
        try:
            await migrate(conn, before)
            debate = await create_debate(conn, title="Séance publique")
            await create_words(
                conn, debate, ["Madame la présidente, mes chers collègues.", "Le vœu du conseil."]
            )
            assert await migrate(conn) == ["0011_passage_search"]
            urls = MediaUrls("http://test")
            hits = await search(conn, "voeu", kinds=("passage",), limit=5, offset=0, urls=urls)
            assert [(h.debate_id, h.index, h.title, h.start) for h in hits.items] == [
                (debate, 2, "Le vœu du conseil.", 30.0)
            ]
        finally:
            await conn.close()

    with fresh_database(pg_admin_dsn, f"robian_mig_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(scenario(dsn))

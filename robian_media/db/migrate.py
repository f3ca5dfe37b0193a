"""Numbered plain-SQL migrations, applied in order under an advisory lock, each in a transaction."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
from procrastinate.schema import SchemaManager

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# any constant shared by every migrator of this schema; "robian" in ASCII
LOCK_ID = 0x726F6269616E

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version FROM schema_migrations"
INSERT_APPLIED = "INSERT INTO schema_migrations (version) VALUES ($1)"
JOB_QUEUE_PRESENT = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL"


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    files = sorted(p for p in directory.glob("*.sql") if p.name[:4].isdigit())
    versions = [p.name.split("_", 1)[0] for p in files]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers in {directory}")
    return files


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is missing; return the names applied. Safe to run from many processes at once."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_ID)
    try:
        await conn.execute(CREATE_TABLE)
        done = {row["version"] for row in await conn.fetch(SELECT_APPLIED)}
        for path in migration_files(directory):
            if path.stem in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute(INSERT_APPLIED, path.stem)
            log.info("migration applied", extra={"migration": path.stem})
            applied_now.append(path.stem)
        await apply_job_queue_schema(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_ID)
    return applied_now


async def apply_job_queue_schema(conn: asyncpg.Connection) -> bool:
    """The job queue's own tables (procrastinate), created once; call under the migration lock.

    procrastinate ships its schema as one SQL script that is not idempotent, so it runs only
    when its tables are absent. Upgrades across procrastinate schema versions are its own
    numbered migrations (``procrastinate schema --migrations-path``), applied by hand.
    """
    if await conn.fetchval(JOB_QUEUE_PRESENT):
        return False
    async with conn.transaction():
        await conn.execute(SchemaManager.get_schema())
    log.info("job queue schema applied")
    return True

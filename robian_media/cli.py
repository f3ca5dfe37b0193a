"""``robian-media`` command line: serve, migrate, import-agenda (more arrive with their issues)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from .log import AccessLogger, configure_logging
from .settings import Settings

if TYPE_CHECKING:
    from .programme_import import ImportResult


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ROBIAN_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SystemExit(f"robian-media: invalid settings: {problems}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import create_app

    settings = _settings()
    host = args.host or settings.host
    port = args.port or settings.port
    configure_logging(settings.log_level, settings.log_json)
    web.run_app(
        create_app(settings),
        host=host,
        port=port,
        access_log_class=AccessLogger,
        print=lambda _: print(f"robian-media serving on http://{host}:{port}", flush=True),
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from .db.migrate import migrate
    from .db.pool import database_dsn

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)

    async def run() -> list[str]:
        import asyncpg

        async with database_dsn(settings) as dsn:
            conn = await asyncpg.connect(dsn)
            try:
                return await migrate(conn)
            finally:
                await conn.close()

    applied = asyncio.run(run())
    print("applied: " + ", ".join(applied) if applied else "schema up to date")
    return 0


def cmd_import_agenda(args: argparse.Namespace) -> int:
    from .programme_import import read_documents

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        documents = [doc for path in args.paths for doc in read_documents(Path(path))]
    except (OSError, ValueError) as exc:
        raise SystemExit(f"robian-media: cannot read the agenda: {exc}") from None
    result = asyncio.run(_import_agenda(settings, documents))
    print(f"agenda: {result.inserted} new, {result.updated} updated, {result.skipped} skipped")
    return 0


async def _import_agenda(settings: Settings, documents: list[Any]) -> ImportResult:
    from .app import redis_client
    from .cache import Cache
    from .cache_invalidation import programme_changed
    from .db.pool import migrated_pool
    from .programme_import import import_agenda

    async with migrated_pool(settings) as (_, pool), pool.acquire() as conn:
        result = await import_agenda(conn, documents)
    if settings.redis_url:
        # API nodes cache the programme: drop their copies (a down Redis only delays that)
        redis = redis_client(settings.redis_url)
        cache = Cache(redis, prefix=settings.redis_prefix, ttls=settings.cache_ttls(), local_max_entries=16)
        try:
            await programme_changed(cache)
        finally:
            await redis.aclose()
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robian-media", description="HLS audio server for parliamentary debates"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server (and in-process workers on embedded defaults)")
    serve.add_argument("--host", help="listen address (default ROBIAN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default ROBIAN_PORT or 8080)")
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)
    agenda = sub.add_parser(
        "import-agenda",
        help="import the AN agenda (JSON file, .zip of files, or directory) into the programme",
    )
    agenda.add_argument("paths", nargs="+", metavar="PATH")
    agenda.set_defaults(func=cmd_import_agenda)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""``robian-media`` command line: serve, migrate, worker, ingest."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from .log import AccessLogger, configure_logging
from .settings import Settings


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


def cmd_worker(args: argparse.Namespace) -> int:
    from .jobs.standalone import job_process
    from .jobs.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    concurrency = args.concurrency or settings.worker_concurrency

    async def run() -> None:
        async with job_process(settings) as (queue, resources):
            print(f"robian-media worker running {concurrency} jobs at once", flush=True)
            await run_worker(queue, resources, concurrency=concurrency, install_signal_handlers=True)

    asyncio.run(run())
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from .jobs.ingest_command import ingest_from_command_line

    settings = _settings()
    configure_logging("WARNING" if args.wait else settings.log_level, settings.log_json)
    return asyncio.run(ingest_from_command_line(settings, args.source, args.chapters, wait=args.wait))


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
    worker = sub.add_parser("worker", help="run ingest jobs from the queue until stopped (SIGTERM/SIGINT)")
    worker.add_argument(
        "--concurrency", type=int, help="jobs at once (default ROBIAN_WORKER_CONCURRENCY or 2)"
    )
    worker.set_defaults(func=cmd_worker)
    ingest = sub.add_parser("ingest", help="ingest a URL, an AN portal video or a local file")
    ingest.add_argument("source", metavar="URL", help="http(s) URL, AN portal page, or a file path")
    ingest.add_argument("--chapters", type=Path, help="JSON file: an array of ChapterIn")
    ingest.add_argument(
        "--wait", action="store_true", help="follow the job with a progress bar until it is published"
    )
    ingest.set_defaults(func=cmd_ingest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""``robian-media`` command line: serve, worker, migrate, ingest, nginx-conf, import-agenda…

Arguments, settings and dispatch; each command's body lives beside what it drives (``app.run_server``,
``db.pool.apply_migrations``, ``media.edge_metrics.serve_edge_metrics``…)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

# Everything else is imported inside the commands: a Ctrl-C while they load is caught by main(), and a
# busy port is reported before the (seconds of) imports of the server.


def _settings() -> Settings:
    from pydantic import ValidationError

    from .settings import Settings

    try:
        # renamed variables still in use: one line each at start, before logging is set up
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)
            settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"robian-media: invalid settings: {problems}") from None
    for warning in caught:
        print(f"robian-media: {warning.message}", file=sys.stderr, flush=True)
    return settings


def _configure_logging(level: str, as_json: bool) -> None:
    # imported late: ops.log pulls in the HTTP layer, seconds of imports a busy port need not wait for
    from .ops.log import configure_logging

    configure_logging(level, as_json)


def _variable(loc: tuple[int | str, ...]) -> str:
    # a field read under an alias (ROBIAN_MEDIA_ROOT, renamed variables) is reported under it
    name = "_".join(str(part) for part in loc).upper()
    return name if name.startswith("ROBIAN_") else f"ROBIAN_{name}"


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args, demo=False)


def cmd_demo(args: argparse.Namespace) -> int:
    return _serve(args, demo=True)


def _serve(args: argparse.Namespace, *, demo: bool) -> int:
    from .web.listen import PortUnavailable, bind_listen_sockets

    settings = _settings()
    host = settings.host if args.host is None else args.host
    port = args.port or settings.port
    # before the (slow) imports and everything that starts: a busy port is one line and exit 1
    try:
        sockets = bind_listen_sockets(host, port)
    except PortUnavailable as exc:
        raise SystemExit(f"robian-media: {exc}") from None

    from .app import run_server

    run_server(settings, host=host, port=port, sockets=sockets, demo=demo)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from .db.pool import apply_migrations

    settings = _settings()
    _configure_logging(settings.log_level, settings.log_json)
    applied = asyncio.run(apply_migrations(settings))
    print("applied: " + ", ".join(applied) if applied else "schema up to date")
    return 0


def cmd_nginx_conf(args: argparse.Namespace) -> int:
    from .media.nginx_conf import NginxLayout, render_nginx_conf

    layout = NginxLayout(
        listen=args.listen,
        upstreams=args.upstream,
        edge_listen=args.edge_listen,
        edge_origin=args.edge_origin,
        prefix=args.prefix,
    )
    try:
        text = render_nginx_conf(_settings(), layout)
    except (ValueError, OSError) as exc:
        raise SystemExit(f"robian-media nginx-conf: {exc}") from None
    sys.stdout.write(text)
    return 0


def _address(text: str) -> object:
    from .media.nginx_conf import parse_address

    try:
        return parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_import_agenda(args: argparse.Namespace) -> int:
    from .catalog.programme_import import import_into_programme, read_documents

    settings = _settings()
    _configure_logging(settings.log_level, settings.log_json)
    try:
        documents = [doc for path in args.paths for doc in read_documents(Path(path))]
    except (OSError, ValueError) as exc:
        raise SystemExit(f"robian-media: cannot read the agenda: {exc}") from None
    result = asyncio.run(import_into_programme(settings, documents))
    print(f"agenda: {result.inserted} new, {result.updated} updated, {result.skipped} skipped")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .app import JOB_TASKS
    from .jobs.metrics_server import worker_metrics_server
    from .jobs.standalone import job_process
    from .jobs.worker import run_worker

    settings = _settings()
    _configure_logging(settings.log_level, settings.log_json)
    concurrency = args.concurrency or settings.worker_concurrency

    async def run() -> None:
        async with (
            job_process(settings, JOB_TASKS) as (queue, resources),
            worker_metrics_server(settings, resources.metrics.registry),
        ):
            queues = args.queue or [task.queue for task in JOB_TASKS]
            print(f"robian-media worker running {concurrency} jobs at once ({', '.join(queues)})", flush=True)
            await run_worker(
                queue, resources, concurrency=concurrency, install_signal_handlers=True, queues=queues
            )

    asyncio.run(run())
    return 0


def cmd_edge_metrics(args: argparse.Namespace) -> int:
    from .media.edge_metrics import serve_edge_metrics

    settings = _settings()
    _configure_logging(settings.log_level, settings.log_json)
    serve_edge_metrics(args.log, host=args.host, port=args.port)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest.command import ingest_from_command_line

    settings = _settings()
    _configure_logging("WARNING" if args.wait else settings.log_level, settings.log_json)
    return asyncio.run(ingest_from_command_line(settings, args.source, args.chapters, wait=args.wait))


def cmd_attach_cr(args: argparse.Namespace) -> int:
    from .ingest.attach_command import attach_from_command_line

    settings = _settings()
    _configure_logging("WARNING" if args.wait else settings.log_level, settings.log_json)
    return asyncio.run(attach_from_command_line(settings, args.debate_id, args.source, wait=args.wait))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robian-media", description="HLS audio server for parliamentary debates"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server (and in-process workers on embedded defaults)")
    serve.add_argument("--host", help="listen address (default ROBIAN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default ROBIAN_PORT or 8080)")
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser(
        "demo", help="serve, and ingest a synthesised multi-speaker sitting through the normal pipeline"
    )
    demo.add_argument("--host", help="listen address (default ROBIAN_HOST or 127.0.0.1)")
    demo.add_argument("--port", type=int, help="listen port (default ROBIAN_PORT or 8080)")
    demo.set_defaults(func=cmd_demo)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=cmd_migrate)
    nginx = sub.add_parser(
        "nginx-conf",
        help="print an nginx.conf for the current settings (run it with nginx -c FILE -p DIR)",
        description="Prints a complete nginx.conf: an origin serving the media root under /hls/ and proxying "
        "the API to the upstreams; with --edge-listen, also a caching edge in front of it.",
    )
    nginx.add_argument("--listen", type=_address, required=True, metavar="HOST:PORT", help="origin address")
    nginx.add_argument("--edge-listen", type=_address, metavar="HOST:PORT", help="edge cache address")
    nginx.add_argument(
        "--edge-origin",
        type=_address,
        metavar="HOST:PORT",
        help="origin the edge fronts when it is another machine (default: this configuration's --listen)",
    )
    nginx.add_argument(
        "--upstream",
        type=_address,
        action="append",
        required=True,
        metavar="HOST:PORT",
        help="an API node (robian-media serve); repeat for several",
    )
    nginx.add_argument(
        "--prefix",
        type=Path,
        metavar="DIR",
        help="existing directory for pid, logs, temp files and the edge cache "
        "(default: relative paths, resolved against nginx -p DIR)",
    )
    nginx.set_defaults(func=cmd_nginx_conf)

    agenda = sub.add_parser(
        "import-agenda",
        help="import the AN agenda (JSON file, .zip of files, or directory) into the programme",
    )
    agenda.add_argument("paths", nargs="+", metavar="PATH")
    agenda.set_defaults(func=cmd_import_agenda)

    worker = sub.add_parser("worker", help="run ingest jobs from the queue until stopped (SIGTERM/SIGINT)")
    worker.add_argument(
        "--concurrency", type=int, help="jobs at once (default ROBIAN_WORKER_CONCURRENCY or 2)"
    )
    worker.add_argument(
        "--queue",
        action="append",
        choices=["ingest", "live"],
        help="only this queue's jobs (repeatable; default both): live sittings hold a job slot for hours",
    )
    worker.set_defaults(func=cmd_worker)
    edge_metrics = sub.add_parser(
        "edge-metrics",
        help="serve the edge cache's hits and misses, read from its access log, on /metrics",
    )
    edge_metrics.add_argument(
        "--log", type=Path, required=True, help="the edge's access log (edge-access.log)"
    )
    edge_metrics.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    edge_metrics.add_argument("--port", type=int, default=9113, help="listen port (default 9113)")
    edge_metrics.set_defaults(func=cmd_edge_metrics)
    ingest = sub.add_parser("ingest", help="ingest a URL, an AN portal video or a local file")
    ingest.add_argument("source", metavar="URL", help="http(s) URL, AN portal page, or a file path")
    ingest.add_argument("--chapters", type=Path, help="JSON file: an array of ChapterIn")
    ingest.add_argument(
        "--wait", action="store_true", help="follow the job with a progress bar until it is published"
    )
    ingest.set_defaults(func=cmd_ingest)
    attach_cr = sub.add_parser(
        "attach-cr", help="attach a compte rendu to a published debate: new chapters and words, no encode"
    )
    attach_cr.add_argument("debate_id", metavar="DEBATE_ID")
    attach_cr.add_argument("source", metavar="URL|FILE", help="the compte rendu (Syceron XML): URL or file")
    attach_cr.add_argument(
        "--wait", action="store_true", help="follow the job until the version is published"
    )
    attach_cr.set_defaults(func=cmd_attach_cr)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C before a command set up its own stop: nothing to clean up yet
        return 130


if __name__ == "__main__":
    sys.exit(main())

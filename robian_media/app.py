"""The application factory: one ``cleanup_ctx`` per resource, shared state behind AppKeys; and how
``serve`` (or ``demo``) runs it.

As the composition root it is where features register with the core: their kinds of job
(:data:`JOB_TASKS`, for this app's queue and for ``robian-media worker``), their routes (routes.py),
their resources (``cleanup_ctx``).
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from .cache.redis_client import create_cache, create_redis
from .cache.responses import ResponseCache
from .db.pool import create_read_pool, migrated_pool
from .events.factory import create_event_bus
from .events.streams import end_streams
from .ingest.task import ATTACH_COMPTE_RENDU, INGEST
from .jobs.queue import JobTask, job_queue_ctx
from .jobs.state_metrics import JobStateMetrics
from .jobs.worker import in_process_worker_ctx
from .listeners.limits import listener_limits_ctx
from .live.playlist_watch import playlist_watch_ctx
from .live.task import LIVE
from .media.clips import create_clip_store
from .media.ffmpeg_binary import resolve_ffmpeg
from .media.store import create_media_store
from .ops.http_metrics import HttpMetrics
from .ops.log import access_logger_class, configure_logging
from .ops.runtime_metrics import register_runtime_metrics
from .routes import setup_routes
from .settings import Settings
from .web import keys
from .web.admin_token import resolve_admin_token
from .web.client_address import ClientAddresses
from .web.client_slots import ClientSlots
from .web.http_policy import setup_http_policy, url_origin
from .web.openapi import setup_openapi
from .web.pipeline import RequestPipeline
from .web.rate_limit import rate_limit_ctx

log = logging.getLogger(__name__)

JOB_TASKS: tuple[JobTask, ...] = (INGEST, ATTACH_COMPTE_RENDU, LIVE)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    async with migrated_pool(app[keys.SETTINGS]) as (dsn, pool):
        app[keys.DATABASE_DSN] = dsn
        app[keys.DB_POOL] = pool
        yield


async def read_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    pool = await create_read_pool(app[keys.DATABASE_DSN])
    app[keys.READ_POOL] = pool
    try:
        yield
    finally:
        await pool.close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if not settings.redis_url:
        yield
        return
    client = create_redis(settings.redis_url)
    app[keys.REDIS] = client
    try:
        yield
    finally:
        await client.aclose()


async def cache_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    cache = create_cache(settings, app.get(keys.REDIS))
    app[keys.CACHE] = cache
    app[keys.RESPONSE_CACHE] = ResponseCache(
        cache if settings.cache_enabled else None,
        local_ttl=settings.cache_local_ttl,
        local_max_entries=settings.cache_local_max_entries,
        registry=app[keys.METRICS_REGISTRY],
    )
    yield


async def event_bus_ctx(app: web.Application) -> AsyncIterator[None]:
    bus = create_event_bus(app[keys.SETTINGS], registry=app[keys.METRICS_REGISTRY])
    await bus.start()
    app[keys.EVENT_BUS] = bus
    try:
        yield
    finally:
        await bus.close()


async def media_store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = create_media_store(settings)
    app[keys.MEDIA_STORE] = store
    app[keys.CLIP_STORE] = create_clip_store(settings, app[keys.FFMPEG], store, app[keys.METRICS_REGISTRY])
    try:
        yield
    finally:
        await store.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    http_policy = setup_http_policy(app, settings.cors_origins, url_origin(settings.public_base_url))
    app.middlewares.append(RequestPipeline(app, http_policy).middleware)
    app[keys.SETTINGS] = settings
    app[keys.CLIENT_ADDRESSES] = ClientAddresses(settings.trusted_proxies)
    app[keys.STREAM_SLOTS] = ClientSlots(
        settings.events_max_listeners, settings.events_listeners_per_address, "event streams open"
    )
    app[keys.ADMIN_TOKEN] = resolve_admin_token(settings)
    app[keys.FFMPEG] = resolve_ffmpeg(settings.ffmpeg)
    registry = CollectorRegistry()
    app[keys.METRICS_REGISTRY] = registry
    app[keys.HTTP_METRICS] = HttpMetrics(registry)
    app[keys.JOB_TASKS] = JOB_TASKS
    # the ingest queue's depth shows at 0 too (what dashboards plot), the live queue's once it has jobs
    app[keys.JOB_STATE_METRICS] = JobStateMetrics(
        registry, kinds=[task.kind for task in JOB_TASKS], shown_queues=[INGEST.queue]
    )
    register_runtime_metrics(registry)
    app.cleanup_ctx.extend(
        [
            database_ctx,
            read_pool_ctx,
            redis_ctx,
            cache_ctx,
            rate_limit_ctx,
            listener_limits_ctx,
            event_bus_ctx,
            media_store_ctx,
            job_queue_ctx,
            in_process_worker_ctx,
            playlist_watch_ctx,
        ]
    )
    # SSE/WebSocket streams end in on_shutdown, before aiohttp waits for handlers to finish
    app.on_shutdown.append(end_streams)
    setup_routes(app)
    setup_openapi(app)
    return app


def tune_gc(threshold: int) -> None:
    """Collect the young generation less often; long-lived startup objects leave the collector's sight."""
    if threshold:
        gc.set_threshold(threshold, 20, 20)
        gc.freeze()


def _unspecified(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def run_server(
    settings: Settings, *, host: str, port: int, sockets: list[socket.socket], demo: bool = False
) -> None:
    """``robian-media serve`` (``demo``: and ingest a synthesised sitting) until stopped, on ``sockets``
    (bound to ``host``:``port`` by the caller before anything started)."""
    if demo and settings.worker_count == 0:
        raise SystemExit("robian-media demo: needs in-process workers (ROBIAN_WORKERS > 0)")
    if "public_base_url" not in settings.model_fields_set:
        # unset: clients reach this server where it listens (the wildcard address is not reachable)
        shown = "127.0.0.1" if _unspecified(host) else host
        shown = f"[{shown}]" if ":" in shown else shown
        settings = settings.model_copy(update={"public_base_url": f"http://{shown}:{port}"})
    # the demo talks to a person at a terminal: warnings only, as text, unless asked otherwise
    level = "WARNING" if demo and "log_level" not in settings.model_fields_set else settings.log_level
    as_json = settings.log_json and not (demo and "log_json" not in settings.model_fields_set)
    configure_logging(level, as_json)
    tune_gc(settings.gc_threshold)
    app = create_app(settings)
    if demo:
        from .ingest.demo import demo_ctx

        app.cleanup_ctx.append(demo_ctx)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log_class=access_logger_class(app[keys.HTTP_METRICS]),
        keepalive_timeout=idle_connection_seconds(settings),
    )
    asyncio.run(serve_until_stopped(runner, sockets, f"robian-media serving on http://{host}:{port}"))


def idle_connection_seconds(settings: Settings) -> float:
    """How long a connection may wait for (the rest of) a request head.

    aiohttp closes a connection whose next request has not fully arrived when this runs out, so
    without nginx (which bounds heads itself) it is what ends a client trickling its head. Behind
    nginx, aiohttp's own 75 s, longer than nginx keeps idle upstream connections (60 s).
    """
    return 75.0 if settings.behind_nginx else settings.request_head_timeout_seconds


async def serve_until_stopped(runner: web.AppRunner, sockets: list[socket.socket], banner: str) -> None:
    """Start, serve until SIGINT or SIGTERM, stop cleanly: a signal at any moment of start-up too.

    The signal cancels this task wherever start-up is (aiohttp's ``run_app`` skips the clean-up of
    what a half-done start-up had started); the cancel is then taken back (``uncancel``) so each
    resource is closed as on any stop instead of every step of the clean-up being cancelled in turn.
    A second signal exits at once.
    """
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None

    def stop(signum: int) -> None:
        if main.cancelling():
            log.warning("second signal: exiting without finishing the clean-up")
            os._exit(128 + signum)
        main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        await runner.setup()
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        print(banner, flush=True)
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        main.uncancel()
    finally:
        await runner.cleanup()

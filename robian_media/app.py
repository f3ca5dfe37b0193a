"""The application factory: one ``cleanup_ctx`` per resource, shared state behind AppKeys."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from . import keys
from .admin_token import resolve_admin_token
from .cache import Cache
from .db.pool import migrated_pool
from .errors import problem_middleware
from .events.factory import create_event_bus
from .events.streams import end_streams
from .ffmpeg_binary import resolve_ffmpeg
from .http_metrics import HttpMetrics, metrics_middleware
from .openapi import setup_openapi
from .redis_client import connect_redis
from .routes import setup_routes
from .settings import Settings

log = logging.getLogger(__name__)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    async with migrated_pool(app[keys.SETTINGS]) as (dsn, pool):
        app[keys.DATABASE_DSN] = dsn
        app[keys.DB_POOL] = pool
        yield


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if not settings.redis_url:
        yield
        return
    client = connect_redis(settings.redis_url)
    app[keys.REDIS] = client
    try:
        yield
    finally:
        await client.aclose()


async def cache_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    app[keys.CACHE] = Cache(
        app.get(keys.REDIS),
        prefix=settings.redis_prefix,
        ttls=settings.cache_ttls(),
        local_max_entries=settings.cache_local_max_entries,
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


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[metrics_middleware, problem_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.ADMIN_TOKEN] = resolve_admin_token(settings)
    app[keys.FFMPEG] = resolve_ffmpeg(settings.ffmpeg)
    registry = CollectorRegistry()
    app[keys.METRICS_REGISTRY] = registry
    app[keys.HTTP_METRICS] = HttpMetrics(registry)
    app.cleanup_ctx.extend([database_ctx, redis_ctx, cache_ctx, event_bus_ctx])
    # SSE/WebSocket streams end in on_shutdown, before aiohttp waits for handlers to finish
    app.on_shutdown.append(end_streams)
    setup_routes(app)
    setup_openapi(app)
    return app

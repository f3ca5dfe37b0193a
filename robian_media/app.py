"""The application factory: one ``cleanup_ctx`` per resource, shared state behind AppKeys."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import keys
from .admin_token import resolve_admin_token
from .cache import Cache
from .db.pool import migrated_pool
from .errors import problem_middleware
from .events.bus import LocalEventBus
from .ffmpeg_binary import resolve_ffmpeg
from .http_metrics import HttpMetrics, metrics_middleware
from .http_policy import setup_http_policy
from .listener_limits import listener_limits_ctx
from .openapi import setup_openapi
from .rate_limit import rate_limit_ctx, rate_limit_middleware
from .response_cache import ResponseCache
from .routes import setup_routes
from .settings import Settings

log = logging.getLogger(__name__)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    async with migrated_pool(app[keys.SETTINGS]) as (dsn, pool):
        app[keys.DATABASE_DSN] = dsn
        app[keys.DB_POOL] = pool
        yield


def redis_client(url: str) -> Redis:
    # short timeouts and one immediate retry (a pooled connection that died with a Redis restart):
    # a down Redis must cost a request milliseconds, not seconds
    return Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1))


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    if not settings.redis_url:
        yield
        return
    client = redis_client(settings.redis_url)
    app[keys.REDIS] = client
    try:
        yield
    finally:
        await client.aclose()


async def cache_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    cache = Cache(
        app.get(keys.REDIS),
        prefix=settings.redis_prefix,
        ttls=settings.cache_ttls(),
        local_max_entries=settings.cache_local_max_entries,
    )
    app[keys.CACHE] = cache
    app[keys.RESPONSE_CACHE] = ResponseCache(
        cache if settings.cache_enabled else None,
        local_ttl=settings.cache_local_ttl,
        local_max_entries=settings.cache_local_max_entries,
    )
    yield


async def event_bus_ctx(app: web.Application) -> AsyncIterator[None]:
    app[keys.EVENT_BUS] = LocalEventBus()
    yield


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    http_policy = setup_http_policy(app, settings.cors_origins)
    app.middlewares.extend(
        [metrics_middleware, problem_middleware, http_policy.preflight_middleware, rate_limit_middleware]
    )
    app[keys.SETTINGS] = settings
    app[keys.ADMIN_TOKEN] = resolve_admin_token(settings)
    app[keys.FFMPEG] = resolve_ffmpeg(settings.ffmpeg)
    registry = CollectorRegistry()
    app[keys.METRICS_REGISTRY] = registry
    app[keys.HTTP_METRICS] = HttpMetrics(registry)
    app.cleanup_ctx.extend(
        [database_ctx, redis_ctx, cache_ctx, rate_limit_ctx, listener_limits_ctx, event_bus_ctx]
    )
    setup_routes(app)
    setup_openapi(app)
    return app

"""Every piece of shared application state, behind a typed ``web.AppKey``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import procrastinate
from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

if TYPE_CHECKING:
    from ..cache.responses import ResponseCache
    from ..cache.store import Cache
    from ..events.bus import EventBus
    from ..jobs.state_metrics import JobStateMetrics
    from ..listeners.limits import ListenerLimits
    from ..live.hinted_parts import HintedParts
    from ..live.playlist_watch import PlaylistWatch
    from ..ops.http_metrics import HttpMetrics
    from ..settings import Settings
    from .rate_limit import RateLimiter

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE_DSN: web.AppKey[str] = web.AppKey("database_dsn")
DB_POOL: web.AppKey[asyncpg.Pool] = web.AppKey("db_pool")
# read-only sessions for the metadata API's queries (see db.pool.create_read_pool)
READ_POOL: web.AppKey[asyncpg.Pool] = web.AppKey("read_pool")
REDIS: web.AppKey[Redis] = web.AppKey("redis")
CACHE: web.AppKey[Cache] = web.AppKey("cache")
EVENT_BUS: web.AppKey[EventBus] = web.AppKey("event_bus")
METRICS_REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("metrics_registry")
HTTP_METRICS: web.AppKey[HttpMetrics] = web.AppKey("http_metrics")
JOB_STATE_METRICS: web.AppKey[JobStateMetrics] = web.AppKey("job_state_metrics")
ADMIN_TOKEN: web.AppKey[str] = web.AppKey("admin_token")
FFMPEG: web.AppKey[str] = web.AppKey("ffmpeg")
RESPONSE_CACHE: web.AppKey[ResponseCache] = web.AppKey("response_cache")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
JOB_QUEUE: web.AppKey[procrastinate.App] = web.AppKey("job_queue")
LISTENER_LIMITS: web.AppKey[ListenerLimits] = web.AppKey("listener_limits")
# LL-HLS blocking playlist reloads wait on it
PLAYLIST_WATCH: web.AppKey[PlaylistWatch] = web.AppKey("playlist_watch")
# requests for the hinted LL-HLS part, held until it is written
HINTED_PARTS: web.AppKey[HintedParts] = web.AppKey("hinted_parts")

"""Every piece of the core's shared application state, behind a typed ``web.AppKey``.

A feature declares its own keys beside it (``live/keys.py``, ``listeners/keys.py``); where the core
calls into a feature it declares the hook here and the feature fills it (:data:`WAIT_FOR_MEDIA`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
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
    from ..jobs.queue import JobTask
    from ..jobs.state_metrics import JobStateMetrics
    from ..media.clips import ClipStore
    from ..media.store import MediaStore
    from ..ops.http_metrics import HttpMetrics
    from ..settings import Settings
    from .client_address import ClientAddresses
    from .client_slots import ClientSlots
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
CLIP_STORE: web.AppKey[ClipStore] = web.AppKey("clip_store")
# where published media lives: the media root (file) or a bucket (s3); ROBIAN_MEDIA_STORE
MEDIA_STORE: web.AppKey[MediaStore] = web.AppKey("media_store")
RESPONSE_CACHE: web.AppKey[ResponseCache] = web.AppKey("response_cache")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
# who a request comes from (past trusted proxies): what rate limits and per-client caps count by
CLIENT_ADDRESSES: web.AppKey[ClientAddresses] = web.AppKey("client_addresses")
# open SSE/WebSocket streams per client address
STREAM_SLOTS: web.AppKey[ClientSlots] = web.AppKey("stream_slots")
JOB_QUEUE: web.AppKey[procrastinate.App] = web.AppKey("job_queue")
# the kinds of job this process's queue runs, as the composition root registered them
JOB_TASKS: web.AppKey[tuple[JobTask, ...]] = web.AppKey("job_tasks")
# optional: (media root, relative path, client key) → returns once written, for a /hls/ file not there yet
# (the live feature holds requests for its hinted LL-HLS part); raises NotFound for a file that will not come
WAIT_FOR_MEDIA: web.AppKey[Callable[[Path, str, str], Awaitable[None]]] = web.AppKey("wait_for_media")

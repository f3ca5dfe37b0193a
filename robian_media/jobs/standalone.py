"""A process of its own that runs or submits jobs (``robian-media worker``, ``robian-media ingest``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager

import procrastinate

from ..cache.redis_client import create_cache, create_redis
from ..db.pool import migrated_pool
from ..events.factory import open_event_bus
from ..media.clips import create_clip_store
from ..media.ffmpeg_binary import resolve_ffmpeg
from ..media.store import create_media_store
from ..settings import Settings
from .metrics import JobMetrics
from .queue import JobTask, create_job_queue, opened
from .resources import WorkerResources


@asynccontextmanager
async def job_process(
    settings: Settings, tasks: Iterable[JobTask]
) -> AsyncIterator[tuple[procrastinate.App, WorkerResources]]:
    """Database (embedded or configured, migrated), Redis cache, event bus, and the job queue of ``tasks``."""
    async with AsyncExitStack() as stack:
        dsn, pool = await stack.enter_async_context(migrated_pool(settings))
        redis = create_redis(settings.redis_url) if settings.redis_url else None
        if redis is not None:
            stack.push_async_callback(redis.aclose)
        # a publisher only: this process has no listeners of its own
        bus = await stack.enter_async_context(open_event_bus(settings, listen=False))
        queue = create_job_queue(dsn, settings, tasks)
        store = create_media_store(settings)
        stack.push_async_callback(store.close)
        await stack.enter_async_context(opened(queue))
        ffmpeg = resolve_ffmpeg(settings.ffmpeg)
        metrics = JobMetrics()
        resources = WorkerResources(
            settings=settings,
            pool=pool,
            bus=bus,
            cache=create_cache(settings, redis),
            ffmpeg=ffmpeg,
            metrics=metrics,
            clips=create_clip_store(settings, ffmpeg, store, metrics.registry),
            store=store,
        )
        yield queue, resources

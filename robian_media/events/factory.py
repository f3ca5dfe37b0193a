"""The bus for the current settings: through Redis when ``ROBIAN_REDIS_URL`` is set, else in-process.

The API builds it in ``app.event_bus_ctx``; a job worker (a separate process) opens its own::

    async with open_event_bus(settings, listen=False) as bus:
        await bus.publish(f"job:{job_id}", "job.progress", {...})

Without Redis a worker's events reach only listeners of its own process, i.e. nobody when it is not
``serve``'s in-process worker: multi-process deployments need Redis for live events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from ..settings import Settings
from .bus import EventBus, LocalEventBus
from .metrics import EventMetrics
from .redis_bus import RedisEventBus


def create_event_bus(
    settings: Settings, *, registry: CollectorRegistry | None = None, listen: bool = True
) -> EventBus:
    """A bus, not yet started. ``listen=False``: a publisher only (no Redis reader in this process)."""
    metrics = EventMetrics(registry)
    if not settings.redis_url:
        return LocalEventBus(
            metrics,
            replay_len=settings.events_replay_len,
            replay_seconds=settings.events_replay_seconds,
            queue_size=settings.events_listener_queue,
        )
    return RedisEventBus(
        settings.redis_url,
        metrics,
        prefix=settings.redis_prefix,
        replay_len=settings.events_replay_len,
        replay_seconds=settings.events_replay_seconds,
        fanout_len=settings.events_fanout_len,
        queue_size=settings.events_listener_queue,
        listen=listen,
    )


@asynccontextmanager
async def open_event_bus(
    settings: Settings, *, registry: CollectorRegistry | None = None, listen: bool = True
) -> AsyncIterator[EventBus]:
    """A started bus, closed on exit."""
    bus = create_event_bus(settings, registry=registry, listen=listen)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()

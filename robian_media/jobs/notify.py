"""What a job tells the world: events on the bus (docs/architecture.md §5) and cache invalidation
after a publish.

Publishing must never break a job: a bus or cache failure is logged and the job goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from ..cache.invalidation import debate_changed
from ..cache.store import Cache
from ..events.bus import EventBus

log = logging.getLogger(__name__)


async def invalidate_debate_caches(cache: Cache | None, debate_id: str) -> None:
    """Drop what clients may have cached about a debate whose state or version changed."""
    if cache is None:
        return
    try:
        await debate_changed(cache, debate_id)
    except Exception:  # the cache is a speed layer: a failure must not fail a job
        log.warning("cache invalidation failed", extra={"debate_id": debate_id}, exc_info=True)


class JobNotifier:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    @property
    def bus(self) -> EventBus:
        return self._bus

    async def _publish(self, channels: list[str], type: str, data: dict[str, Any]) -> None:
        for channel in channels:
            try:
                await self._bus.publish(channel, type, data)
            except Exception:
                log.warning("event publish failed", extra={"channel": channel, "type": type}, exc_info=True)

    async def progress(self, job_id: str, stage: str, progress: float) -> None:
        data = {"job_id": job_id, "stage": stage, "progress": round(progress, 4)}
        await self._publish(["jobs", f"job:{job_id}"], "job.progress", data)

    async def succeeded(self, job_id: str, debate_id: str, version: int, master_url: str) -> None:
        data = {"job_id": job_id, "debate_id": debate_id, "version": version, "master_url": master_url}
        await self._publish(["jobs", f"job:{job_id}"], "job.succeeded", data)

    async def retrying(self, job_id: str, error: str, retry_in: float) -> None:
        data = {"job_id": job_id, "error": error, "retry_in": retry_in}
        await self._publish(["jobs", f"job:{job_id}"], "job.retrying", data)

    async def failed(self, job_id: str, debate_id: str | None, error: str) -> None:
        data = {"job_id": job_id, "debate_id": debate_id, "error": error}
        await self._publish(["jobs", f"job:{job_id}"], "job.failed", data)

    async def cancelled(self, job_id: str, debate_id: str | None) -> None:
        data = {"job_id": job_id, "debate_id": debate_id}
        await self._publish(["jobs", f"job:{job_id}"], "job.cancelled", data)

    async def debate_playable(self, debate_id: str, version: int, master_url: str) -> None:
        """``debate.updated`` with ``playable``: the version being made can be listened to already."""
        data = {"debate_id": debate_id, "version": version, "playable": True, "master_url": master_url}
        await self._publish(["debates", f"debate:{debate_id}"], "debate.updated", data)

    async def debate_published(self, debate_id: str, version: int, duration: float, master_url: str) -> None:
        data = {"debate_id": debate_id, "version": version, "duration": duration, "master_url": master_url}
        await self._publish(["debates", f"debate:{debate_id}"], "debate.published", data)

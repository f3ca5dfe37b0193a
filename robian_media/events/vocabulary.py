"""Typed helpers for the event types of docs/architecture.md §5;
each puts an event on every channel it belongs to.

Jobs and debates publish on their own channel and on the collection channel (``job:{id}`` and
``jobs``; ``debate:{id}`` and ``debates``), so a page following one job and a dashboard following
all jobs both hear it. Like ``bus.publish``, these never raise because Redis is down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from .bus import EventBus
from .event import Event

JobStage = str  # fetching, probing, packaging, publishing (docs/architecture.md §4)


async def _publish_both(
    bus: EventBus, one: str, many: str, type: str, data: Mapping[str, Any]
) -> list[Event]:
    return [await bus.publish(one, type, data), await bus.publish(many, type, data)]


async def publish_job_progress(
    bus: EventBus, job_id: UUID | str, stage: JobStage, progress: float
) -> list[Event]:
    """``job.progress`` ``{"job_id","stage","progress"}`` (progress from 0 to 1)."""
    data = {"job_id": str(job_id), "stage": stage, "progress": round(min(max(progress, 0.0), 1.0), 4)}
    return await _publish_both(bus, f"job:{job_id}", "jobs", "job.progress", data)


async def publish_job_event(
    bus: EventBus, job_id: UUID | str, type: str, data: Mapping[str, Any] | None = None
) -> list[Event]:
    """``job.succeeded``, ``job.failed`` (with ``error``), ``job.cancelled``…: ``{"job_id", …data}``."""
    return await _publish_both(bus, f"job:{job_id}", "jobs", type, {"job_id": str(job_id), **(data or {})})


async def publish_debate_event(
    bus: EventBus, debate_id: UUID | str, type: str, data: Mapping[str, Any] | None = None
) -> list[Event]:
    """``debate.created``, ``debate.updated``, ``debate.published``: ``{"debate_id", …data}``."""
    payload = {"debate_id": str(debate_id), **(data or {})}
    return await _publish_both(bus, f"debate:{debate_id}", "debates", type, payload)


async def publish_live_event(
    bus: EventBus, live_id: UUID | str, type: str, data: Mapping[str, Any] | None = None
) -> list[Event]:
    """``live.started``, ``live.ended`` on ``live:{id}`` and ``debate:{id}`` (live id = debate id)."""
    return await _publish_both(bus, f"live:{live_id}", f"debate:{live_id}", type, dict(data or {}))


async def publish_live_speaker(
    bus: EventBus, live_id: UUID | str, speaker: Mapping[str, Any], at: float, **extra: Any
) -> list[Event]:
    """``live.speaker`` ``{"speaker": {"id","name","group"}, "at": seconds since the sitting began}``
    on ``live:{id}`` and ``debate:{id}``."""
    data = {"speaker": dict(speaker), "at": at, **extra}
    return await _publish_both(bus, f"live:{live_id}", f"debate:{live_id}", "live.speaker", data)

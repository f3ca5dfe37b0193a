"""The one way jobs, live sittings and listeners publish: a typed helper per event type of
docs/architecture.md §5, each putting its event on every channel it belongs to.

Jobs and debates publish on the collection channel and on their own (``jobs`` and ``job:{id}``;
``debates`` and ``debate:{id}``), so a dashboard following all jobs and a page following one both
hear it; a live sitting on ``live:{id}`` and ``debate:{id}``; a listener's things on ``owner:{id}``.

Publishing never fails the job or the request that publishes: it happens after the change has been
committed, so a bus failure (whatever the backend raises) is logged and the caller goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from ..ops.background import raise_if_cancelling
from ..web.device_auth import owner_channel
from ..web.seconds import to_millisecond
from .bus import EventBus
from .event import Event
from .hub import DEVICE_REVOKED

log = logging.getLogger(__name__)

JobStage = str  # fetching, probing, packaging, publishing (docs/architecture.md §4)


async def _publish(bus: EventBus, channels: list[str], type: str, data: Mapping[str, Any]) -> list[Event]:
    published = []
    for channel in channels:
        try:
            published.append(await bus.publish(channel, type, data))
        except Exception:  # the change is committed: an event lost must not undo or fail it
            raise_if_cancelling()
            log.warning("event publish failed", extra={"channel": channel, "type": type}, exc_info=True)
    return published


def _job(job_id: UUID | str) -> list[str]:
    return ["jobs", f"job:{job_id}"]


def _debate(debate_id: UUID | str) -> list[str]:
    return ["debates", f"debate:{debate_id}"]


def _live(live_id: UUID | str) -> list[str]:
    return [f"live:{live_id}", f"debate:{live_id}"]  # the live id is the debate's


async def publish_job_progress(
    bus: EventBus, job_id: UUID | str, stage: JobStage, progress: float
) -> list[Event]:
    """``job.progress`` ``{"job_id","stage","progress"}`` (progress from 0 to 1)."""
    data = {"job_id": str(job_id), "stage": stage, "progress": round(min(max(progress, 0.0), 1.0), 4)}
    return await _publish(bus, _job(job_id), "job.progress", data)


async def publish_job_retrying(bus: EventBus, job_id: UUID | str, error: str, retry_in: float) -> list[Event]:
    """``job.retrying``: the attempt failed, the queue runs the job again in ``retry_in`` seconds."""
    data = {"job_id": str(job_id), "error": error, "retry_in": retry_in}
    return await _publish(bus, _job(job_id), "job.retrying", data)


async def publish_job_failed(
    bus: EventBus, job_id: UUID | str, debate_id: UUID | str | None, error: str
) -> list[Event]:
    data = {"job_id": str(job_id), "debate_id": _optional(debate_id), "error": error}
    return await _publish(bus, _job(job_id), "job.failed", data)


async def publish_job_cancelled(
    bus: EventBus, job_id: UUID | str, debate_id: UUID | str | None
) -> list[Event]:
    data = {"job_id": str(job_id), "debate_id": _optional(debate_id)}
    return await _publish(bus, _job(job_id), "job.cancelled", data)


async def publish_debate_playable(
    bus: EventBus, debate_id: UUID | str, version: int, master_url: str
) -> list[Event]:
    """``debate.updated`` with ``playable``: the version being made can be listened to already."""
    data = {"debate_id": str(debate_id), "version": version, "playable": True, "master_url": master_url}
    return await _publish(bus, _debate(debate_id), "debate.updated", data)


async def publish_debate_updated(
    bus: EventBus, debate_id: UUID | str, *, version: int, master_url: str
) -> list[Event]:
    """``debate.updated``: a new version (a compte rendu attached: chapters and words) now serves."""
    data = {"debate_id": str(debate_id), "version": version, "master_url": master_url}
    return await _publish(bus, _debate(debate_id), "debate.updated", data)


async def publish_version_published(
    bus: EventBus,
    job_id: UUID | str,
    debate_id: UUID | str,
    *,
    version: int,
    duration: float,
    master_url: str,
) -> list[Event]:
    """A job published a version: ``job.succeeded`` on its channels, then ``debate.published``."""
    debate = str(debate_id)
    succeeded = {"job_id": str(job_id), "debate_id": debate, "version": version, "master_url": master_url}
    published = {
        "debate_id": debate,
        "version": version,
        "duration": to_millisecond(duration),
        "master_url": master_url,
    }
    return [
        *await _publish(bus, _job(job_id), "job.succeeded", succeeded),
        *await _publish(bus, _debate(debate_id), "debate.published", published),
    ]


async def publish_live_event(
    bus: EventBus, live_id: UUID | str, type: str, data: Mapping[str, Any] | None = None
) -> list[Event]:
    """``live.started``, ``live.ended`` on ``live:{id}`` and ``debate:{id}`` (live id = debate id)."""
    return await _publish(bus, _live(live_id), type, dict(data or {}))


async def publish_live_parts(bus: EventBus, live_id: UUID | str, playlists: list[str]) -> list[Event]:
    """``live.parts`` on the internal ``parts:{id}``: these playlists of the sitting (keys in the media
    store) changed, every part they name is there (the s3 store's API nodes answer LL-HLS from it)."""
    return await _publish(bus, [f"parts:{live_id}"], "live.parts", {"playlists": playlists})


async def publish_live_speaker(
    bus: EventBus, live_id: UUID | str, speaker: Mapping[str, Any], at: float, **extra: Any
) -> list[Event]:
    """``live.speaker`` ``{"speaker": {"id","name","group"}, "at": seconds since the sitting began}``
    on ``live:{id}`` and ``debate:{id}``."""
    data = {"speaker": dict(speaker), "at": to_millisecond(at), **extra}
    return await _publish(bus, _live(live_id), "live.speaker", data)


async def publish_owner_event(
    bus: EventBus, owner_id: UUID, type: str, data: Mapping[str, Any]
) -> list[Event]:
    """An owner's private channel (``owner:{id}``), so the owner's other devices follow at once; a device
    that missed it gets the change from its next GET."""
    return await _publish(bus, [owner_channel(owner_id)], type, data)


async def publish_device_revoked(bus: EventBus, owner_id: UUID, device_id: UUID) -> list[Event]:
    """``device.revoked`` ``{"device_id"}`` on the owner's channel: every node ends that device's streams
    (``hub``), and the owner's other devices see it go."""
    return await _publish(bus, [owner_channel(owner_id)], DEVICE_REVOKED, {"device_id": str(device_id)})


def _optional(value: UUID | str | None) -> str | None:
    return None if value is None else str(value)

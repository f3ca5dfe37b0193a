"""The event bus interface (docs/architecture.md §5), shared by the in-process and the Redis implementation.

Publishing, from any module or process that holds a bus (``app[keys.EVENT_BUS]`` in the API,
``open_event_bus`` in a worker)::

    await bus.publish(f"job:{job_id}", "job.progress", {"job_id": str(job_id), "stage": "packaging",
                                                        "progress": 0.42})

``publish`` never raises because Redis is down: the event is then delivered to this process's
listeners and logged. It raises ``ValueError`` for an unknown channel or data that is not JSON —
programming errors. ``robian_media.events.vocabulary`` has typed helpers for the event
types of docs/architecture.md §5.

Listening in-process (a bounded queue; :class:`~.hub.SlowConsumer` when it overflows)::

    with bus.subscribe(["jobs"]) as subscription:
        async for event in subscription: ...

SSE and WebSocket streams add their own listeners to ``bus.hub`` (see ``streams.py``).
"""

from __future__ import annotations

import abc
import json
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .channels import canonical_channel, channel_kind
from .event import Event, EventKey, dumps, parse_event_id, utc_now_iso
from .hub import SHUTDOWN, Hub, Subscription
from .metrics import EventMetrics
from .replay_buffer import ReplayBuffer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Replay:
    events: list[Event]
    # False when the buffer no longer holds every event after the asked id (too old, or Redis lost it)
    complete: bool


class EventBus(abc.ABC):
    """``publish`` / ``subscribe`` / ``replay``; ``start`` and ``close`` bracket its life."""

    def __init__(self, metrics: EventMetrics, *, replay_len: int, replay_seconds: float, queue_size: int):
        self.metrics = metrics
        self.hub = Hub(metrics)
        self._queue_size = queue_size
        self._replay_len = replay_len
        self._replay_seconds = replay_seconds

    async def start(self) -> None:  # noqa: B027 (optional hook: nothing to start in-process)
        """Begin receiving events published elsewhere."""

    async def close(self) -> None:
        """Tell every listener the bus is going away and release connections."""
        self.hub.close_all(SHUTDOWN)

    @abc.abstractmethod
    async def publish(self, channel: str, type: str, data: Mapping[str, Any]) -> Event:
        """Append the event to its channel and hand it to every listener of every node."""

    @abc.abstractmethod
    async def replay(self, channels: Collection[str], since: str) -> Replay:
        """Buffered events of ``channels`` with an id after ``since``, in id order.

        ``ValueError`` when ``since`` is not an event id of this server.
        """

    def subscribe(self, channels: Iterable[str], *, maxsize: int | None = None) -> Subscription:
        """A queue subscription (for in-process consumers), already receiving."""
        subscription = Subscription(
            self.hub, [canonical_channel(c) for c in channels], maxsize or self._queue_size
        )
        self.hub.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.hub.remove(subscription)

    @staticmethod
    def _prepare(channel: str, type: str, data: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """Canonical channel, JSON payload, and a private copy of ``data`` (callers may mutate theirs)."""
        channel = canonical_channel(channel)
        if not type or len(type) > 64 or any(ch in type for ch in "\r\n"):
            raise ValueError(f"event type {type[:80]!r} must be 1-64 characters on one line")
        try:
            payload = dumps(dict(data))
        except TypeError as exc:
            raise ValueError(f"event data is not JSON: {exc}") from None
        return channel, payload, json.loads(payload)

    def _count_published(self, channel: str, path: str) -> None:
        self.metrics.published.labels(channel_kind(channel), path).inc()


class LocalEventBus(EventBus):
    """Single-process bus with an in-memory replay buffer (embedded defaults, no Redis)."""

    def __init__(
        self, metrics: EventMetrics, *, replay_len: int, replay_seconds: float, queue_size: int
    ) -> None:
        super().__init__(metrics, replay_len=replay_len, replay_seconds=replay_seconds, queue_size=queue_size)
        self._buffer = ReplayBuffer(replay_len, replay_seconds)
        self._last = EventKey(0, 0)

    def _next_key(self) -> EventKey:
        # Redis's own rule for stream ids: wall-clock ms, a sequence within the same (or an earlier) ms
        now_ms = time.time_ns() // 1_000_000
        last = self._last
        key = EventKey(now_ms, 0) if now_ms > last.ms else EventKey(last.ms, last.seq + 1)
        self._last = key
        return key

    async def publish(self, channel: str, type: str, data: Mapping[str, Any]) -> Event:
        channel, _, copy = self._prepare(channel, type, data)
        key = self._next_key()
        event = Event(id=key.stream_id, channel=channel, type=type, ts=utc_now_iso(), data=copy)
        self._buffer.append(event, key)
        self._count_published(channel, "local")
        self.hub.dispatch([event])
        return event

    async def replay(self, channels: Collection[str], since: str) -> Replay:
        events, complete = self._buffer.since(channels, parse_event_id(since))
        return Replay(events, complete)

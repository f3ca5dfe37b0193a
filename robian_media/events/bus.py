"""The event bus interface (DESIGN §5) and its in-process implementation.

Publishers call ``publish(channel, type, data)``; listeners subscribe to channels and receive
:class:`Event` objects. The Redis-backed bus (cross-node fan-out) implements the same interface.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    channel: str
    type: str
    ts: str
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "type": self.type, "ts": self.ts, "data": self.data}


@dataclass(eq=False)
class Subscription:
    channels: set[str]
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=256))
    overflowed: bool = False


class EventBus(Protocol):
    async def publish(self, channel: str, type: str, data: dict[str, Any]) -> Event: ...

    def subscribe(self, channels: Iterable[str]) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...


class LocalEventBus:
    """Single-process bus with a bounded replay ring (embedded defaults, no Redis)."""

    def __init__(self, replay_size: int = 1000) -> None:
        self._ring: deque[Event] = deque(maxlen=replay_size)
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)

    async def publish(self, channel: str, type: str, data: dict[str, Any]) -> Event:
        event = Event(
            id=str(next(self._seq)),
            channel=channel,
            type=type,
            ts=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            data=data,
        )
        self._ring.append(event)
        for sub in list(self._subs):
            if channel in sub.channels:
                try:
                    sub.queue.put_nowait(event)
                except asyncio.QueueFull:
                    sub.overflowed = True
        return event

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        sub = Subscription(channels=set(channels))
        self._subs.add(sub)
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subs.discard(subscription)

    def replay(self, channels: Iterable[str], after_id: int) -> list[Event]:
        wanted = set(channels)
        return [e for e in self._ring if e.channel in wanted and int(e.id) > after_id]

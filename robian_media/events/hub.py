"""Node-local fan-out: which listener of this process follows which channel, and handing events over.

Every bus (in-process or Redis) ends here: ``dispatch`` hands a batch of events (what one Redis read
returned, in id order) to each listener following any of them, synchronously, as one batch per
listener — one socket write for an SSE/WebSocket client however many events the batch holds. A
listener never blocks the others: it takes the batch into its own bounded buffer or, when that is
full, closes itself as too slow (it resumes by id).

A stream opened with a device token is indexed by that device: a ``device.revoked`` event (published
on the owner's channel by whichever node revoked it, so it reaches every node) closes that device's
streams wherever they are.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from enum import IntEnum
from types import TracebackType
from typing import ClassVar

from .event import Event, Frames
from .metrics import EventMetrics

SLOW_CONSUMER = "slow_consumer"
SHUTDOWN = "shutdown"
DISCONNECTED = "disconnected"
REVOKED = "revoked"
# {"device_id"} on owner:{id}: that device's token no longer holds (docs/architecture.md §5)
DEVICE_REVOKED = "device.revoked"


class Handed(IntEnum):
    DELIVERED = 1
    SKIPPED = 0  # already closed
    DROPPED = -1  # did not fit: the listener has just closed itself as too slow


# events of one batch for one listener, in id order, each with its shared wire forms
Batch = Sequence[tuple[Event, Frames]]


class Listener:
    """One consumer of events: a queue subscription, an SSE stream or a WebSocket."""

    kind: ClassVar[str]
    channels: frozenset[str]
    closed_reason: str | None
    # for streams opened with a device token: that device, and its owner's private channel
    device: str | None = None
    owner_channel: str | None = None

    def deliver(self, batch: Batch) -> Handed:
        """Take the events without blocking (called for every listener of every batch)."""
        raise NotImplementedError

    def close(self, reason: str) -> None:
        """Stop receiving; the owner then removes the listener from the hub."""
        raise NotImplementedError


class SubscriptionClosed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SlowConsumer(SubscriptionClosed):
    """The subscription's queue overflowed: resume with ``bus.replay(channels, last_id)``."""


class Hub:
    def __init__(self, metrics: EventMetrics) -> None:
        self._metrics = metrics
        self._by_channel: dict[str, set[Listener]] = {}
        self._listeners: set[Listener] = set()
        self._by_device: dict[str, set[Listener]] = {}
        # owners' channels some stream here was opened for: their revocations must reach this node
        self._owner_channels: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._listeners)

    def wants(self, channel: str) -> bool:
        return channel in self._by_channel or channel in self._owner_channels

    def add(self, listener: Listener) -> None:
        if listener in self._listeners:
            return
        self._listeners.add(listener)
        self._metrics.listeners.labels(listener.kind).inc()
        for channel in listener.channels:
            self._by_channel.setdefault(channel, set()).add(listener)
        if listener.device is not None and listener.owner_channel is not None:
            self._by_device.setdefault(listener.device, set()).add(listener)
            self._owner_channels[listener.owner_channel] = (
                self._owner_channels.get(listener.owner_channel, 0) + 1
            )

    def update(self, listener: Listener, channels: Collection[str]) -> None:
        """Change what an added listener follows (WebSocket subscribe/unsubscribe)."""
        new = frozenset(channels)
        for channel in listener.channels - new:
            self._discard(channel, listener)
        for channel in new - listener.channels:
            self._by_channel.setdefault(channel, set()).add(listener)
        listener.channels = new

    def remove(self, listener: Listener) -> None:
        if listener not in self._listeners:
            return
        self._listeners.discard(listener)
        self._metrics.listeners.labels(listener.kind).dec()
        for channel in listener.channels:
            self._discard(channel, listener)
        if listener.device is not None and listener.owner_channel is not None:
            streams = self._by_device.get(listener.device, set())
            streams.discard(listener)
            if not streams:
                self._by_device.pop(listener.device, None)
            left = self._owner_channels.pop(listener.owner_channel, 1) - 1
            if left:
                self._owner_channels[listener.owner_channel] = left

    def _discard(self, channel: str, listener: Listener) -> None:
        members = self._by_channel.get(channel)
        if members is not None:
            members.discard(listener)
            if not members:
                del self._by_channel[channel]

    def dispatch(self, events: Sequence[Event]) -> None:
        if self._by_device:
            self._close_revoked(events)
        plan: Iterable[tuple[Listener, Batch]]
        if len(events) == 1:  # the common case: no per-listener grouping
            targets = self._by_channel.get(events[0].channel)
            if not targets:
                return
            batch = [(events[0], Frames(events[0]))]
            # a copy: handing over may close a listener, and its owner may then remove it
            plan = [(listener, batch) for listener in targets]
        else:
            grouped: dict[Listener, list[tuple[Event, Frames]]] = {}
            for event in events:
                targets = self._by_channel.get(event.channel)
                if targets:
                    item = (event, Frames(event))
                    for listener in targets:
                        grouped.setdefault(listener, []).append(item)
            plan = list(grouped.items())
        delivered: dict[str, int] = {}
        for listener, items in plan:
            handed = listener.deliver(items)
            if handed is Handed.DELIVERED:
                delivered[listener.kind] = delivered.get(listener.kind, 0) + len(items)
            elif handed is Handed.DROPPED:
                self._metrics.dropped.labels(listener.kind).inc(len(items))
                self._metrics.slow_disconnects.labels(listener.kind).inc()
        # one increment per kind, not per listener: this loop runs for every listener
        for kind, count in delivered.items():
            self._metrics.delivered.labels(kind).inc(count)

    def _close_revoked(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type == DEVICE_REVOKED:
                for listener in tuple(self._by_device.get(str(event.data.get("device_id")), ())):
                    if listener.owner_channel == event.channel:  # only its owner revokes it
                        listener.close(REVOKED)

    def count_replayed(self, kind: str, count: int) -> None:
        if count:
            self._metrics.delivered.labels(kind).inc(count)

    def close_all(self, reason: str) -> None:
        for listener in tuple(self._listeners):
            listener.close(reason)


class Subscription(Listener):
    """A bounded queue of events for in-process consumers (tests, CLI waits, job watchers).

    ``async for event in subscription`` ends when the bus shuts down and raises
    :class:`SlowConsumer` after the events queued before an overflow.
    """

    kind = "queue"

    def __init__(self, hub: Hub, channels: Collection[str], maxsize: int) -> None:
        self._hub = hub
        self.channels = frozenset(channels)
        self.closed_reason = None
        self.last_id: str | None = None
        self._maxsize = maxsize
        self._queue: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def deliver(self, batch: Batch) -> Handed:
        if self.closed_reason is not None:
            return Handed.SKIPPED
        for event, _ in batch:
            if len(self._queue) >= self._maxsize:
                self.close(SLOW_CONSUMER)
                return Handed.DROPPED
            self._queue.append(event)
        self._wake()
        return Handed.DELIVERED

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Event:
        while not self._queue:
            if self.closed_reason == SLOW_CONSUMER:
                raise SlowConsumer(self.closed_reason)
            if self.closed_reason is not None:
                raise SubscriptionClosed(self.closed_reason)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = self._queue.popleft()
        self.last_id = event.id
        return event

    def drain(self) -> list[Event]:
        """The events queued now, without waiting."""
        events = list(self._queue)
        self._queue.clear()
        if events:
            self.last_id = events[-1].id
        return events

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.get()
        except SlowConsumer:
            raise
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._hub.remove(self)

"""In-memory replay buffer: the last events of each channel, bounded by count, age and channel count.

The embedded bus resumes listeners from it; the Redis bus keeps in it only what it published while
Redis was down. It knows what it has forgotten, so a replay can say it is incomplete.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Collection

from .event import ZERO_KEY, Event, EventKey

# per-id channels (job:{id}…) come and go; past this many the least recently used are forgotten
MAX_CHANNELS = 10_000

_Entry = tuple[EventKey, Event, float]


class ReplayBuffer:
    def __init__(self, max_per_channel: int, max_age_s: float) -> None:
        self._max = max_per_channel
        self._max_age = max_age_s
        # least recently appended channel first
        self._channels: OrderedDict[str, deque[_Entry]] = OrderedDict()
        # newest key each channel has evicted, and the newest key of any forgotten channel
        self._dropped_upto: dict[str, EventKey] = {}
        self._forgotten_upto = ZERO_KEY

    def append(self, event: Event, key: EventKey) -> None:
        now = time.monotonic()
        entries = self._channels.get(event.channel)
        if entries is None:
            entries = self._channels[event.channel] = deque()
            self._dropped_upto[event.channel] = self._forgotten_upto
        else:
            self._channels.move_to_end(event.channel)
        if len(entries) >= self._max:
            self._evict(event.channel, entries.popleft()[0])
        entries.append((key, event, now))
        self._expire(now)

    def since(self, channels: Collection[str], after: EventKey) -> tuple[list[Event], bool]:
        """Events of ``channels`` after ``after`` in id order, and whether none were forgotten."""
        now = time.monotonic()
        self._expire(now)
        found: list[_Entry] = []
        complete = True
        for channel in channels:
            entries = self._channels.get(channel)
            if entries is None:
                complete = complete and self._forgotten_upto <= after
                continue
            self._expire_channel(channel, entries, now - self._max_age)
            complete = complete and self._dropped_upto[channel] <= after
            found.extend(entry for entry in entries if entry[0] > after)
        found.sort(key=lambda entry: entry[0])
        return [entry[1] for entry in found], complete

    def _evict(self, channel: str, key: EventKey) -> None:
        if key > self._dropped_upto[channel]:
            self._dropped_upto[channel] = key

    def _expire(self, now: float) -> None:
        cutoff = now - self._max_age
        # whole channels whose newest event is too old, then the overflow beyond MAX_CHANNELS
        while self._channels:
            channel, entries = next(iter(self._channels.items()))
            if entries and entries[-1][2] >= cutoff and len(self._channels) <= MAX_CHANNELS:
                break
            self._forget(channel)

    def _expire_channel(self, channel: str, entries: deque[_Entry], cutoff: float) -> None:
        while entries and entries[0][2] < cutoff:
            self._evict(channel, entries.popleft()[0])

    def _forget(self, channel: str) -> None:
        entries = self._channels.pop(channel)
        newest = entries[-1][0] if entries else ZERO_KEY
        upto = max(newest, self._dropped_upto.pop(channel))
        if upto > self._forgotten_upto:
            self._forgotten_upto = upto

"""Throttled job progress: callers report as often as they like, the database and the bus hear ≤ 2/s.

``update`` is synchronous and cheap (yt-dlp and the packager call it from their progress hooks);
an owned flusher task writes the latest value at most every ``interval`` seconds, and once more
on exit. Entering a stage is always written, however short the stage (a follower sees every stage
in order). Progress is overall (0..1 across stages) so a progress bar never jumps back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from types import TracebackType

import asyncpg

from ..events.bus import EventBus
from ..events.vocabulary import publish_job_progress
from ..ops.background import cancel_and_wait, raise_if_cancelling
from . import store
from .store import JobRun

log = logging.getLogger(__name__)

# share of the overall progress each stage covers (packaging dominates the wall time)
STAGE_SPANS = {
    "fetching": (0.0, 0.25),
    "probing": (0.25, 0.27),
    "packaging": (0.27, 0.97),
    "publishing": (0.97, 1.0),
}


def overall(stage: str, fraction: float) -> float:
    low, high = STAGE_SPANS[stage]
    return round(low + (high - low) * min(max(fraction, 0.0), 1.0), 4)


class ProgressReporter:
    def __init__(self, pool: asyncpg.Pool, bus: EventBus, run: JobRun, *, interval: float = 0.5) -> None:
        self._pool = pool
        self._bus = bus
        self._run = run
        self._interval = interval
        self._latest: tuple[str, float] = ("fetching", 0.0)
        self._written: tuple[str, float] | None = None
        self._entered: deque[tuple[str, float]] = deque()  # stages entered since the last write
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stage(self) -> str:
        return self._latest[0]

    def update(self, stage: str, fraction: float) -> None:
        value = overall(stage, fraction)
        if stage == self._latest[0] and value < self._latest[1]:
            return  # stage-internal progress never goes back
        if stage != self._latest[0]:
            self._entered.append((stage, value))
        self._latest = (stage, value)
        self._changed.set()

    async def _write_pending(self) -> None:
        while self._entered:
            await self._write(self._entered.popleft())
        await self._write(self._latest)

    async def _write(self, latest: tuple[str, float]) -> None:
        if latest == self._written:
            return
        self._written = latest
        try:
            await store.update_progress(self._pool, self._run, *latest)
        except (asyncpg.PostgresError, OSError):
            raise_if_cancelling()
            log.warning("progress not saved", extra={"job_id": self._run.job_id}, exc_info=True)
        await publish_job_progress(self._bus, self._run.job_id, *latest)

    async def _flush_forever(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._write_pending()
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> ProgressReporter:
        self._task = asyncio.create_task(self._flush_forever(), name=f"progress {self._run.job_id}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._task is not None
        await cancel_and_wait(self._task)
        if exc_type is None:
            await self._write_pending()

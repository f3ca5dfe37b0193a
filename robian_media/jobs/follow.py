"""Following a job from a terminal: poll its row, draw stage and percent, stop when it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TextIO
from uuid import UUID

import asyncpg

from . import store
from .models import Job

FINAL = ("succeeded", "failed", "cancelled")
BAR_WIDTH = 30


async def follow_job(
    pool: asyncpg.Pool, job_id: UUID, on_change: Callable[[Job], None], *, interval: float = 0.25
) -> Job:
    last: tuple[object, ...] | None = None
    while True:
        job = await store.get_job(pool, job_id)
        if job is None:
            raise LookupError(f"job {job_id} disappeared")
        state = (job.status, job.stage, job.progress, job.error)
        if state != last:
            last = state
            on_change(job)
        if job.status in FINAL:
            return job
        await asyncio.sleep(interval)


class ProgressBar:
    """One redrawn line on a terminal; a line per stage and per 10 % otherwise (logs, CI)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._printed: tuple[str, int] | None = None

    def __call__(self, job: Job) -> None:
        percent = int(job.progress * 100)
        label: str = job.stage or job.status
        if job.status == "queued" and job.error:
            label = f"queued (retry: {job.error})"
        if self._tty:
            filled = int(job.progress * BAR_WIDTH)
            bar = "█" * filled + "░" * (BAR_WIDTH - filled)
            self._out.write(f"\r\x1b[2K{label[:60]:<12} {bar} {percent:3d}%")
            if job.status in FINAL:
                self._out.write("\n")
        else:
            key = (label, percent // 10)
            if key == self._printed and job.status not in FINAL:
                return
            self._printed = key
            self._out.write(f"{label} {percent}%\n")
        self._out.flush()

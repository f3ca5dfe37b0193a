"""Progressive playback: tell clients a sitting plays while its first version is still being made.

The packager calls back (in the event loop) once every rung has a segment and the debate's master
points at the version being made; we record it on the job row (the stream route reads it until the
version is published), drop cached answers and announce it. Recording must never break packaging.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

import asyncpg

from packager.playlists import Variant

from ..cache.invalidation import invalidate_debate_caches
from ..events.vocabulary import publish_debate_playable
from ..jobs import store
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..ops.background import start_task

log = logging.getLogger(__name__)


class PlayableMarker:
    def __init__(self, res: WorkerResources, run: JobRun) -> None:
        self._res = res
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def __call__(self, version: int, variants: list[Variant]) -> None:
        self._task = start_task(self._record(version, variants), f"playable {self._run.job_id}")

    async def _record(self, version: int, variants: list[Variant]) -> None:
        res, run = self._res, self._run
        try:
            await store.set_playable(res.pool, run, version, [asdict(v) for v in variants])
        except (asyncpg.PostgresError, OSError):
            log.warning("playable version not recorded", extra={"job_id": run.job_id}, exc_info=True)
            return
        await invalidate_debate_caches(res.cache, run.debate_id)
        await publish_debate_playable(res.bus, run.debate_id, version, res.master_url(run.debate_id))

    async def wait(self) -> None:
        """Let a recording in flight finish (before the publish that supersedes it)."""
        if self._task is not None:
            await asyncio.wait([self._task])

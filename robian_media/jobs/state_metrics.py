"""Queue depth and active jobs as Prometheus gauges, read from PostgreSQL when ``/metrics`` is scraped.

Workers may run anywhere (``robian-media worker`` processes); the database is where the queue is, so
any API node can tell. Every node reports the same numbers: aggregate them with ``max``, not ``sum``.
Reads are throttled (one per ``REFRESH_SECONDS``) and bounded in time; a failed read keeps the last
values and sets ``robian_job_state_up`` to 0.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence

import asyncpg
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

from .stats_queries import ActiveJobs, QueueDepth, active_jobs, queue_depth

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 2.0


class JobStateMetrics:
    def __init__(
        self, registry: CollectorRegistry, *, kinds: Sequence[str], shown_queues: Sequence[str]
    ) -> None:
        """``kinds``: of the jobs counted; ``shown_queues``: their depth shows even when empty."""
        self.kinds = list(kinds)
        self.shown_queues = list(shown_queues)
        self.depth: list[QueueDepth] = []
        self.active: list[ActiveJobs] = []
        self.up = 0
        self._read_at = float("-inf")
        registry.register(self)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        now = time.monotonic()
        if now - self._read_at < REFRESH_SECONDS:
            return
        self._read_at = now
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS), pool.acquire() as conn:
                self.depth = await queue_depth(conn)
                self.active = await active_jobs(conn)
            self.up = 1
        except (OSError, asyncpg.PostgresError, TimeoutError):
            log.warning("job state metrics not read", exc_info=True)
            self.up = 0

    def collect(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily(
            "robian_job_queue_depth",
            "Jobs waiting in the queue (ready: can run now; scheduled: a retry waiting for its backoff)",
            labels=["queue", "state"],
        )
        # shown empty too: a board reads 0, not "no data"
        empty = {queue: QueueDepth(queue, 0, 0) for queue in self.shown_queues}
        depth = empty | {row.queue: row for row in self.depth}
        for row in depth.values():
            ready.add_metric([row.queue, "ready"], row.ready)
            ready.add_metric([row.queue, "scheduled"], row.scheduled)
        yield ready
        jobs = GaugeMetricFamily(
            "robian_jobs_active", "Jobs queued or running, by kind and status", labels=["kind", "status"]
        )
        for kind in self.kinds:
            for status in ("queued", "running"):
                count = sum(r.jobs for r in self.active if (r.kind, r.status) == (kind, status))
                jobs.add_metric([kind, status], count)
        yield jobs
        yield GaugeMetricFamily(
            "robian_job_state_up", "1 when the last read of the queue's state succeeded", value=self.up
        )

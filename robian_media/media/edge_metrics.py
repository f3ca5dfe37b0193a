"""``robian-media edge-metrics``: the edge cache's hits and misses for Prometheus, from its access log.

Open-source nginx counts no cache statuses; its access log has one per request (``cache=`` at the
end of the ``robian`` log format, ``$upstream_cache_status``). This follows that file like
``tail -F`` (from its end when started; a rotated or truncated file is reopened from its start) and
serves ``robian_edge_requests_total{cache="HIT|MISS|…"}`` on ``/metrics``. Edge hit ratio:
``sum(rate(…{cache=~"HIT|STALE|UPDATING|REVALIDATED"}[5m])) / sum(rate(…{cache!="NONE"}[5m]))``.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric

from ..ops.background import cancel_and_wait
from ..ops.metrics_only import setup_metrics_only_routes
from ..web import keys

# $upstream_cache_status values; "-" (nothing cached on this path: SSE, WebSocket) is NONE
CACHE_STATUSES = frozenset({"MISS", "BYPASS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED", "HIT", "NONE"})
LINE = re.compile(r'^\S+ - \S+ \[[^\]]*\] "[^"]*" (?P<status>\d{3}) .* cache=(?P<cache>\S*)\s*$')
POLL_SECONDS = 1.0
READ_CHUNK = 1 << 20


class EdgeLogCounts:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests: dict[str, int] = dict.fromkeys(sorted(CACHE_STATUSES), 0)
        self.unparsed = 0
        registry.register(self)

    def count(self, line: str) -> None:
        match = LINE.match(line)
        if match is None:
            self.unparsed += 1
            return
        cache = match["cache"] if match["cache"] in CACHE_STATUSES else "NONE"
        self.requests[cache] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "robian_edge_requests", "Requests the edge cache answered, by cache status", labels=["cache"]
        )
        for cache, count in self.requests.items():
            requests.add_metric([cache], count)
        yield requests
        yield CounterMetricFamily(
            "robian_edge_log_unparsed_lines", "Access log lines not in the robian format", value=self.unparsed
        )


class LogFollower:
    """Reads lines appended to a file; survives its rotation (new inode) and truncation."""

    def __init__(self, path: Path, counts: EdgeLogCounts) -> None:
        self.path = path
        self.counts = counts
        self._file: IO[str] | None = None
        self._partial = ""

    def _open(self, at_end: bool) -> None:
        try:
            handle = self.path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self._file, self._partial = handle, ""

    def _replaced(self) -> bool:
        assert self._file is not None
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return False  # rotated away, not recreated yet: finish the old file
        mine = os.fstat(self._file.fileno())
        return on_disk.st_ino != mine.st_ino or on_disk.st_size < self._file.tell()

    def read_available(self) -> int:
        """Counts the complete lines written since the last call; returns how many."""
        if self._file is None:
            self._open(at_end=False)
            if self._file is None:
                return 0
        lines = 0
        while chunk := self._file.read(READ_CHUNK):
            *complete, self._partial = (self._partial + chunk).split("\n")
            for line in complete:
                self.counts.count(line)
            lines += len(complete)
        if self._replaced():
            self._file.close()
            self._file = None
            self._open(at_end=False)
        return lines

    def start_at_end(self) -> None:
        self._open(at_end=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def follow(follower: LogFollower) -> None:
    while True:
        await asyncio.to_thread(follower.read_available)
        await asyncio.sleep(POLL_SECONDS)


def create_edge_metrics_app(log_path: Path) -> web.Application:
    app = web.Application()
    registry = CollectorRegistry()
    app[keys.METRICS_REGISTRY] = registry
    follower = LogFollower(log_path, EdgeLogCounts(registry))

    async def follow_ctx(app: web.Application) -> AsyncIterator[None]:
        follower.start_at_end()
        task = asyncio.create_task(follow(follower), name="edge log follower")
        yield
        await cancel_and_wait(task)
        follower.close()

    app.cleanup_ctx.append(follow_ctx)
    setup_metrics_only_routes(app.router)
    return app


def serve_edge_metrics(log_path: Path, *, host: str, port: int) -> None:
    """``robian-media edge-metrics``: serve the counts of ``log_path`` on ``/metrics`` until stopped."""
    web.run_app(
        create_edge_metrics_app(log_path),
        host=host,
        port=port,
        access_log=None,
        print=lambda _: print(f"edge metrics of {log_path} on http://{host}:{port}/metrics", flush=True),
    )

"""Process and event-loop gauges (RSS, open files, asyncio tasks): what a leak shows up in first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric


class LoopMetrics:
    """asyncio tasks alive in the loop that scrapes (the server's only loop)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        try:
            tasks = len(asyncio.all_tasks())
        except RuntimeError:  # no running loop: scraped outside the server
            return
        yield GaugeMetricFamily("robian_asyncio_tasks", "asyncio tasks alive in the event loop", value=tasks)


def register_runtime_metrics(registry: CollectorRegistry) -> None:
    ProcessCollector(registry=registry)
    LoopMetrics(registry)

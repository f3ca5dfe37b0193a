"""The routes of the small servers beside the API (``robian-media worker``'s, jobs/metrics_server.py,
and ``edge-metrics``, media/edge_metrics.py): liveness and their own metrics, nothing else."""

from __future__ import annotations

from aiohttp import web

from .health import health
from .http_metrics import metrics_handler


def setup_metrics_only_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/health", health, name="health")
    router.add_get("/metrics", metrics_handler, name="metrics")

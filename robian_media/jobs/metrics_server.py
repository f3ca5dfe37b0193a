"""``robian-media worker``'s own small HTTP server: ``/metrics`` (its job metrics) and ``/health``,
on ``ROBIAN_WORKER_METRICS_HOST``:``ROBIAN_WORKER_METRICS_PORT`` (0 = none)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry

from ..ops.metrics_only import setup_metrics_only_routes
from ..settings import Settings
from ..web import keys


@asynccontextmanager
async def worker_metrics_server(settings: Settings, registry: CollectorRegistry) -> AsyncIterator[None]:
    if not settings.worker_metrics_port:
        yield
        return
    app = web.Application()
    app[keys.METRICS_REGISTRY] = registry
    setup_metrics_only_routes(app.router)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.worker_metrics_host, settings.worker_metrics_port).start()
        yield
    finally:
        await runner.cleanup()

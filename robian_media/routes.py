"""Every route of the server, named; each points at its handler module."""

from __future__ import annotations

from aiohttp import web

from . import keys
from .events import sse, ws
from .handlers import health, media
from .http_metrics import metrics_handler


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/health", health.health, name="health")
    router.add_get("/health/ready", health.ready, name="health-ready")
    router.add_get("/metrics", metrics_handler, name="metrics")
    router.add_get("/api/v1/events", sse.events_sse, name="events-sse")
    router.add_get("/ws", ws.events_ws, name="events-ws")
    if not app[keys.SETTINGS].behind_nginx:
        # without nginx in front, aiohttp answers /hls/ itself with the same headers
        router.add_route("GET", "/hls/{path:.+}", media.serve_media, name="hls")
        router.add_route("OPTIONS", "/hls/{path:.+}", media.serve_media, name="hls-preflight")

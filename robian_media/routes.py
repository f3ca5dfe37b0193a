"""Every route of the server, named; each points at its handler module."""

from __future__ import annotations

from aiohttp import web

from . import keys
from .handlers import health, ingest, legacy_extraction, media
from .http_metrics import metrics_handler


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/health", health.health, name="health")
    router.add_get("/health/ready", health.ready, name="health-ready")
    router.add_get("/metrics", metrics_handler, name="metrics")
    router.add_post("/api/v1/ingest", ingest.ingest, name="ingest")
    router.add_get("/api/v1/jobs/{job_id}", ingest.get_job, name="job")
    router.add_delete("/api/v1/jobs/{job_id}", ingest.cancel_job, name="job-cancel")
    # the old mobile client's routes
    router.add_post("/api/extraction", legacy_extraction.start_extraction, name="legacy-extraction")
    router.add_get(
        "/api/extraction/{job_id}", legacy_extraction.extraction_status, name="legacy-extraction-status"
    )
    if not app[keys.SETTINGS].behind_nginx:
        # without nginx in front, aiohttp answers /hls/ itself with the same headers
        router.add_route("GET", "/hls/{path:.+}", media.serve_media, name="hls")
        router.add_route("OPTIONS", "/hls/{path:.+}", media.serve_media, name="hls-preflight")

"""Liveness and readiness: each dependency's state, 503 when a required one is down."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from ..web import keys
from ..web.openapi import operation

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 1.0


class Liveness(BaseModel):
    status: Literal["ok"]


class DependencyState(BaseModel):
    status: Literal["up", "down", "disabled"]
    required: bool
    detail: str | None = None
    latency_ms: float | None = None
    free_bytes: int | None = None


class Readiness(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, DependencyState]


@operation(summary="Liveness", tags=["health"], response=Liveness)
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def _timed(check: Any) -> tuple[float, Any]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    return round((loop.time() - started) * 1000, 2), result


async def check_postgres(app: web.Application) -> DependencyState:
    try:
        latency, _ = await _timed(app[keys.DB_POOL].fetchval("SELECT 1"))
        return DependencyState(status="up", required=True, latency_ms=latency)
    except Exception as exc:  # whatever the failure, the database is not usable
        return DependencyState(status="down", required=True, detail=type(exc).__name__)


async def check_redis(app: web.Application) -> DependencyState:
    redis = app.get(keys.REDIS)
    if redis is None:
        return DependencyState(status="disabled", required=False, detail="in-process cache and event bus")
    try:
        latency, _ = await _timed(redis.ping())
        return DependencyState(status="up", required=False, latency_ms=latency)
    except Exception as exc:
        return DependencyState(
            status="down", required=False, detail=f"{type(exc).__name__}; serving from memory"
        )


def check_ffmpeg(app: web.Application) -> DependencyState:
    path = app[keys.FFMPEG]
    found = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK) else None)
    # where it is (or was looked for) is the operator's business, in the log, not the public's
    if found is None:
        log.warning("ffmpeg not found", extra={"ffmpeg": path})
        return DependencyState(status="down", required=True, detail="ffmpeg not found (ROBIAN_FFMPEG)")
    return DependencyState(status="up", required=True)


def check_media_root(app: web.Application) -> DependencyState:
    settings = app[keys.SETTINGS]
    root = settings.media_root
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-"):
            pass
        free = shutil.disk_usage(root).free
    except OSError as exc:
        return DependencyState(
            status="down", required=True, detail=f"media root not writable: {exc.strerror}"
        )
    if free < settings.min_free_disk_bytes:
        return DependencyState(status="down", required=True, free_bytes=free, detail="media root nearly full")
    return DependencyState(status="up", required=True, free_bytes=free)


async def check_media_store(app: web.Application) -> DependencyState | None:
    """The s3 store answering (the file store's disk is ``media_root``)."""
    try:
        latency, where = await _timed(app[keys.MEDIA_STORE].check())
    except Exception as exc:  # down, refusing our credentials, or too slow: /hls/ cannot be served
        return DependencyState(status="down", required=True, detail=type(exc).__name__)
    if where is None:
        return None
    return DependencyState(status="up", required=True, latency_ms=latency, detail=where)


@operation(
    summary="Readiness of each dependency",
    tags=["health"],
    response=Readiness,
    responses={503: "A required dependency is down"},
)
async def ready(request: web.Request) -> web.Response:
    app = request.app
    loop = asyncio.get_running_loop()
    postgres, redis, media_root, media_store = await asyncio.gather(
        check_postgres(app),
        check_redis(app),
        loop.run_in_executor(None, check_media_root, app),
        check_media_store(app),
    )
    checks = {"postgres": postgres, "redis": redis, "ffmpeg": check_ffmpeg(app), "media_root": media_root}
    if media_store is not None:
        checks["media_store"] = media_store
    if any(c.status == "down" and c.required for c in checks.values()):
        status, code = "unavailable", 503
    elif any(c.status == "down" for c in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = Readiness(status=status, checks=checks)
    return web.json_response(
        body.model_dump(exclude_none=True), status=code, headers={"Cache-Control": "no-store"}
    )

"""Structured JSON logs: one line per record, one line per request."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .http_metrics import MALFORMED, HttpMetrics, route_label

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pgserver logs every initdb/pg_ctl command line at INFO
    logging.getLogger("pgserver").setLevel(max(logging.WARNING, root.level))


class AccessLogger(AbstractAccessLogger):
    """One line per request with route template, status and duration; never the Authorization header.

    Requests aiohttp refused before routing (malformed) never reach the metrics middleware: they are
    counted here, in the application's metrics when :func:`access_logger_class` bound them.
    """

    metrics: HttpMetrics | None = None

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = route_label(request)
        if route == MALFORMED and self.metrics is not None:
            self.metrics.observe(request.method, route, response.status, time)
        self.logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status,
                "duration_ms": round(time * 1000, 2),
                "remote": request.remote,
            },
        )


def access_logger_class(metrics: HttpMetrics) -> type[AccessLogger]:
    """The access logger of one application (aiohttp instantiates the class itself)."""
    return type("AppAccessLogger", (AccessLogger,), {"metrics": metrics})

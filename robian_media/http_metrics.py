"""Prometheus metrics of the HTTP layer, in a registry owned by the application."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from . import keys

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "robian_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "robian_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.in_flight = Gauge("robian_http_requests_in_flight", "Requests being answered", registry=registry)
        # the hot path keeps plain Python state: one event loop, no locks; the gauge reads it on scrape
        self.in_flight_now = 0
        self.in_flight.set_function(lambda: self.in_flight_now)
        # labelled children looked up once: labels() re-validates its arguments on every call
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = "other"  # clients choose methods: keep label cardinality bounded
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = self.requests.labels(
                method, route, str(status)
            )
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[(method, route)] = self.latency.labels(method, route)
        histogram.observe(seconds)


def route_label(request: web.Request) -> str:
    """The route template, never the raw path, so label cardinality stays bounded."""
    route = request.match_info.route
    resource = route.resource
    if resource is None or isinstance(request.match_info.http_exception, web.HTTPException):
        return "unmatched"
    return resource.canonical


@web.middleware
async def metrics_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    metrics = request.app[keys.HTTP_METRICS]
    started = time.perf_counter()
    status = 500
    metrics.in_flight_now += 1
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.in_flight_now -= 1
        metrics.observe(request.method, route_label(request), status, time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus exposition of this app's registry (prometheus-async's handler reads the global one)."""
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = web.Response(body=encoder(request.app[keys.METRICS_REGISTRY]))
    response.content_type = content_type.split(";")[0]
    return response

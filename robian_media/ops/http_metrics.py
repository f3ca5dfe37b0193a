"""Prometheus metrics of the HTTP layer, in a registry owned by the application."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.utils import floatToGoString

from ..web import keys

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class HttpMetrics:
    """Request counts, latencies and requests in flight of this application.

    Kept as plain numbers on the request path and turned into Prometheus families when scraped:
    prometheus_client's metric objects validate labels and take a lock on every update, which cost
    more than answering a small request. One event loop updates them, so no lock is needed.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.in_flight_now = 0
        self._counts: dict[tuple[str, str, int], int] = {}
        # per (method, route): a count per bucket of LATENCY_BUCKETS, one for +Inf, then the sum
        self._latencies: dict[tuple[str, str], list[float]] = {}
        registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = "other"  # clients choose methods: keep label cardinality bounded
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        series = self._latencies.get((method, route))
        if series is None:
            series = self._latencies[(method, route)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "robian_http_requests", "HTTP requests answered", labels=["method", "route", "status"]
        )
        for (method, route, status), count in self._counts.items():
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "robian_http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels=["method", "route"],
        )
        bounds = [floatToGoString(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        for (method, route), series in self._latencies.items():
            cumulative = list(accumulate(series[:-1]))
            latency.add_metric(
                [method, route], list(zip(bounds, cumulative, strict=True)), sum_value=series[-1]
            )
        yield latency
        yield GaugeMetricFamily(
            "robian_http_requests_in_flight", "Requests being answered", value=self.in_flight_now
        )


# requests aiohttp refused itself (a malformed request line or header) before any routing
MALFORMED = "malformed"


def route_label(request: web.BaseRequest) -> str:
    """The route template, never the raw path, so label cardinality stays bounded."""
    # aiohttp answers a request it cannot parse with its own 400 without routing it: such a request
    # has no match_info (the property asserts), yet it is logged and counted like any other
    match_info = getattr(request, "_match_info", None)
    if match_info is None:
        return MALFORMED
    resource = match_info.route.resource
    if resource is None or isinstance(match_info.http_exception, web.HTTPException):
        return "unmatched"
    return resource.canonical


async def metrics_handler(request: web.Request) -> web.Response:
    """Prometheus exposition of this app's registry (prometheus-async's handler reads the global one)."""
    job_state = request.app.get(keys.JOB_STATE_METRICS)
    if job_state is not None:
        await job_state.refresh(request.app[keys.READ_POOL])
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = web.Response(body=encoder(request.app[keys.METRICS_REGISTRY]))
    response.content_type = content_type.split(";")[0]
    return response

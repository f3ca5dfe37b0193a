"""The Grafana dashboard refers only to metrics and labels our processes actually expose, so it cannot
silently show nothing: every PromQL name is checked against real /metrics answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from robian_media.app import create_app
from robian_media.jobs.metrics import JobMetrics
from robian_media.jobs.metrics_server import worker_metrics_server
from robian_media.media.edge_metrics import create_edge_metrics_app
from robian_media.settings import Settings
from robian_media.web import keys
from tests.deploy.compose import REPO
from tests.services import free_port

DASHBOARD = REPO / "config/grafana/dashboards/robian-media.json"
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "unknown": ("",),
}
# what the issue asks the board to show, by the metric that shows it
TOPICS = {
    "request rate by route": "robian_http_requests_total",
    "latency by route": "robian_http_request_duration_seconds_bucket",
    "packaging jobs": "robian_ingest_attempts_total",
    "realtime factor": "robian_packaging_wall_seconds_total",
    "queue depth": "robian_job_queue_depth",
    "live listeners": "robian_events_listeners",
    "events dropped": "robian_events_dropped_total",
    "cache hit ratio": "robian_response_cache_lookups_total",
    "nginx edge hit ratio": "robian_edge_requests_total",
}
SELECTOR = re.compile(r"\b(robian_[a-z0-9_]+)\b(\{[^}]*\})?")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")


def exposed(text: str, into: dict[str, set[str]]) -> None:
    """Sample names → label names they carry (label names known only from families with samples)."""
    for family in text_string_to_metric_families(text):
        labels = {label for sample in family.samples for label in sample.labels}
        for suffix in SUFFIXES[family.type]:
            into.setdefault(family.name + suffix, set()).update(
                labels - {"le"} if suffix != "_bucket" else labels
            )


async def scrape(url: str, http: aiohttp.ClientSession) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200, url
        return await resp.text()


async def test_every_metric_on_the_dashboard_is_exposed(
    aiohttp_client: Callable[..., Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    metrics: dict[str, set[str]] = {}
    # an API node with its in-process worker; a few requests so that labelled families have samples
    api = await aiohttp_client(create_app(make_settings(workers=1)))
    for path in ("/health", "/api/v1/debates", "/api/v1/debates", "/api/v1/nothing"):
        await api.get(path)
    await api.app[keys.EVENT_BUS].publish("system", "system.notice", {"text": "dashboard test"})
    exposed(await (await api.get("/metrics")).text(), metrics)
    # robian-media worker's own server
    port = free_port()
    settings = make_settings(worker_metrics_port=port)
    async with worker_metrics_server(settings, JobMetrics().registry), aiohttp.ClientSession() as http:
        exposed(await scrape(f"http://127.0.0.1:{port}/metrics", http), metrics)
    # robian-media edge-metrics
    edge = await aiohttp_client(create_edge_metrics_app(tmp_path / "edge-access.log"))
    exposed(await (await edge.get("/metrics")).text(), metrics)

    board = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            expr = target["expr"]
            names = SELECTOR.findall(expr)
            assert names, f"{panel['title']!r}: {expr} reads no robian metric"
            labels_here: set[str] = set()
            for name, selector in names:
                assert name in metrics, f"{panel['title']!r}: {name} is exposed by no process"
                used.add(name)
                labels_here |= metrics[name]
                for label in MATCHER.findall(selector):
                    assert label in metrics[name], f"{panel['title']!r}: {name} has no label {label!r}"
            for grouping in GROUPING.findall(expr):
                for label in filter(None, (part.strip() for part in grouping.split(","))):
                    assert label in labels_here, f"{panel['title']!r}: grouping by unknown label {label!r}"
            for legend in re.findall(r"\{\{(\w+)\}\}", target.get("legendFormat", "")):
                assert legend in labels_here, f"{panel['title']!r}: legend names unknown label {legend!r}"
    missing = {topic for topic, metric in TOPICS.items() if metric not in used}
    assert not missing, f"the dashboard does not show {missing}"

"""`robian-media edge-metrics`: the edge's hits and misses, read from the access log real nginx writes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from robian_media.media.edge_metrics import create_edge_metrics_app
from tests.edge.hls_media import HlsMedia


async def edge_requests(client: Any) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    return {
        sample.labels["cache"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "robian_edge_requests"
        for sample in family.samples
        if sample.name == "robian_edge_requests_total"
    }


async def counted(client: Any, expected: dict[str, float]) -> dict[str, float]:
    for _ in range(100):  # the log is read once a second
        counts = await edge_requests(client)
        if all(counts.get(k) == v for k, v in expected.items()):
            return counts
        await asyncio.sleep(0.1)
    return counts


async def test_edge_hits_and_misses_are_counted_from_its_access_log(
    hls_media: HlsMedia,
    fake_api: Any,
    start_nginx: Any,
    http: aiohttp.ClientSession,
    aiohttp_client: Any,
) -> None:
    nginx = start_nginx(hls_media, fake_api[1].port, edge=True)
    log = Path(nginx.prefix) / "edge-access.log"
    async with http.get(nginx.edge + "/api/v1/ping") as resp:  # before the follower starts: not counted
        assert resp.status == 200
    await asyncio.sleep(0.1)
    client = await aiohttp_client(create_edge_metrics_app(log))
    segment = f"{nginx.edge}/hls/{hls_media.debate}/v1/a64/seg_1.m4s"
    for _ in range(3):
        async with http.get(segment) as resp:
            assert resp.status == 200
    counts = await counted(client, {"MISS": 1, "HIT": 2})
    assert counts["MISS"] == 1 and counts["HIT"] == 2, counts

    # logrotate moves the file away and nginx reopens a new one: counting goes on
    log.rename(log.with_suffix(".log.1"))
    nginx.server.reopen_logs()
    async with http.get(segment) as resp:
        assert resp.headers["X-Cache-Status"] == "HIT"
    counts = await counted(client, {"HIT": 3})
    assert counts["HIT"] == 3, counts

"""The origin in front of the API nodes: streaming, WebSocket, downloads, client address, limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.edge.conftest import RunningNginx
from tests.edge.fake_api import FakeApi
from tests.edge.hls_media import HlsMedia
from tests.services import free_port


@pytest.fixture
async def stack(hls_media: HlsMedia, fake_api: Any, start_nginx: Any) -> tuple[FakeApi, RunningNginx]:
    """The origin with an edge in front (the edge is exercised where a client would go through it)."""
    api, upstream = fake_api
    return api, start_nginx(hls_media, upstream.port, edge=True)


async def _next_event(resp: aiohttp.ClientResponse) -> bytes:
    return await asyncio.wait_for(resp.content.readuntil(b"\n\n"), timeout=10)


@pytest.mark.parametrize("via", ["origin", "edge"])
@pytest.mark.parametrize("path", ["/api/v1/events?channels=jobs", "/api/v1/unbuffered-stream"])
async def test_server_sent_events_arrive_as_they_are_sent(
    stack: tuple[FakeApi, RunningNginx], http: aiohttp.ClientSession, via: str, path: str
) -> None:
    """/api/v1/events is never buffered; elsewhere the API's X-Accel-Buffering: no is honoured."""
    api, nginx = stack
    async with http.get(getattr(nginx, via) + path, headers={"Accept": "text/event-stream"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        first = await _next_event(resp)
        # the API is still holding the second event: the first reached us unbuffered
        assert not api.second_sent
        assert b"event: job.progress" in first
        api.release.set()
        second = await _next_event(resp)
        assert b"event: job.succeeded" in second


@pytest.mark.parametrize("via", ["origin", "edge"])
async def test_websocket_goes_through(
    stack: tuple[FakeApi, RunningNginx], http: aiohttp.ClientSession, via: str
) -> None:
    _, nginx = stack
    async with http.ws_connect(getattr(nginx, via) + "/ws") as ws:
        for text in ("subscribe", "ping"):
            await ws.send_str(text)
            reply = await asyncio.wait_for(ws.receive_json(), timeout=10)
            assert reply == {"echo": text}


@pytest.mark.parametrize("via", ["origin", "edge"])
async def test_download_is_streamed_by_nginx_after_the_api_said_so(
    stack: tuple[FakeApi, RunningNginx], hls_media: HlsMedia, http: aiohttp.ClientSession, via: str
) -> None:
    api, nginx = stack
    whole = hls_media.file(f"{hls_media.debate}/v1/download.m4a").read_bytes()
    url = f"{getattr(nginx, via)}/api/v1/debates/{hls_media.debate}/download"
    async with http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/mp4"
        assert resp.headers["Content-Disposition"] == 'attachment; filename="seance.m4a"'
        assert "X-Accel-Redirect" not in resp.headers
        assert await resp.read() == whole
    async with http.get(url, headers={"Range": "bytes=1000-1999"}) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
        assert await resp.read() == whole[1000:2000]
    assert api.hits["download"] >= 2 if via == "origin" else api.hits["download"] >= 1


async def test_the_api_sees_the_real_client(
    stack: tuple[FakeApi, RunningNginx], http: aiohttp.ClientSession
) -> None:
    _, nginx = stack
    async with http.get(nginx.origin + "/api/v1/ping", headers={"Host": "audio.example"}) as resp:
        seen = await resp.json()
    assert seen == {
        "x_real_ip": "127.0.0.1",
        "x_forwarded_for": "127.0.0.1",
        "x_forwarded_proto": "http",
        "host": "audio.example",
    }
    # through the edge, the origin restores the client the edge saw, and a TLS edge's scheme survives
    headers = {"X-Forwarded-Proto": "https"}
    async with http.get(f"{nginx.edge}/api/v1/ping", headers=headers) as resp:
        seen = await resp.json()
    assert seen["x_real_ip"] == "127.0.0.1"
    assert seen["x_forwarded_proto"] == "https"


async def test_metrics_are_for_loopback_and_allowed_networks_only(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    _, upstream = fake_api
    nginx = start_nginx(hls_media, upstream.port, edge=True)
    async with http.get(nginx.origin + "/metrics") as resp:
        assert resp.status == 200
        assert "robian_up 1" in await resp.text()
    # a client the edge saw at 203.0.113.9 (the edge appends it last; the origin believes only its edge)
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    async with http.get(nginx.origin + "/metrics", headers=relayed) as resp:
        assert resp.status == 403
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert "robian_up" not in await resp.text()
    allowed = start_nginx(hls_media, upstream.port, edge=True, nginx_metrics_allow=["203.0.113.0/24"])
    async with http.get(allowed.origin + "/metrics", headers=relayed) as resp:
        assert resp.status == 200


async def test_api_rate_limit_answers_429_problem_but_segments_are_not_limited(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    api, upstream = fake_api
    nginx = start_nginx(hls_media, upstream.port, nginx_api_rate=1, nginx_api_burst=2)
    statuses = []
    for _ in range(12):
        async with http.get(nginx.origin + "/api/v1/ping") as resp:
            statuses.append(resp.status)
            if resp.status == 429:
                problem = await resp.json(content_type=None)
                assert resp.headers["Content-Type"] == "application/problem+json"
                assert resp.headers["Retry-After"] == "1"
    assert statuses[:3] == [200, 200, 200]  # the burst
    assert 429 in statuses
    assert problem == {
        "type": "https://robian-media.org/problems/too-many-requests",
        "title": "Too many requests",
        "status": 429,
        "detail": "Too many requests from this address; retry in a second.",
    }
    assert api.hits["ping"] == statuses.count(200)
    for _ in range(50):
        async with http.get(f"{nginx.origin}/hls/{hls_media.debate}/v1/a64/seg_1.m4s") as resp:
            assert resp.status == 200


@pytest.mark.parametrize("via", ["origin", "edge"])
async def test_ll_hls_blocking_reloads_go_to_the_api(
    stack: tuple[FakeApi, RunningNginx], hls_media: HlsMedia, http: aiohttp.ClientSession, via: str
) -> None:
    api, nginx = stack
    base = f"{getattr(nginx, via)}/hls/{hls_media.debate}/live/index.m3u8"
    async with http.get(base + "?_HLS_msn=7&_HLS_part=2") as resp:
        text = await resp.text()
        assert resp.status == 200
        assert f"/hls/{hls_media.debate}/live/index.m3u8 msn=7 part=2" in text
        assert resp.headers.getall("Access-Control-Allow-Origin") == ["*"]
        assert resp.headers["Cache-Control"] == "max-age=1"  # the API decides how long it holds
    async with http.get(base + "?_HLS_msn=8") as resp:
        assert "msn=8 part=None" in await resp.text()
    async with http.get(base + "?_HLS_skip=YES") as resp:  # a delta update
        assert "msn=None part=None skip=YES" in await resp.text()
    # without the directive, the playlist on disk
    async with http.get(base) as resp:
        assert await resp.read() == hls_media.file(f"{hls_media.debate}/live/index.m3u8").read_bytes()
    assert api.hits["blocking"] == 3


async def test_an_unreachable_api_is_a_502_problem(
    hls_media: HlsMedia, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    nginx = start_nginx(hls_media, free_port())
    async with http.get(nginx.origin + "/api/v1/debates") as resp:
        assert resp.status == 502
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert json.loads(await resp.text())["status"] == 502
    # media does not depend on the API
    async with http.get(f"{nginx.origin}/hls/{hls_media.debate}/master.m3u8") as resp:
        assert resp.status == 200

"""The edge cache in front of the origin, as a CDN POP would be: hits, stampedes, origin outages."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.edge.conftest import RunningNginx
from tests.edge.hls_media import HlsMedia


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str | None, bytes]:
    async with http.get(url) as resp:
        return resp.status, resp.headers.get("X-Cache-Status"), await resp.read()


def _origin_fetches(origin: RunningNginx, path: str) -> int:
    return sum(f'"GET {path} HTTP/1.1"' in line for line in origin.access_log())


async def test_segments_miss_once_then_hit(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    nginx = start_nginx(hls_media, fake_api[1].port, edge=True)
    path = f"/hls/{hls_media.debate}/v1/a64/seg_2.m4s"
    expected = hls_media.file(path.removeprefix("/hls/")).read_bytes()
    assert await _get(http, nginx.edge + path) == (200, "MISS", expected)
    assert await _get(http, nginx.edge + path) == (200, "HIT", expected)
    async with http.get(nginx.edge + path) as resp:
        # the origin's headers are cached with the object
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert resp.headers["Content-Type"] == "video/iso.segment"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    async with http.get(nginx.edge + path, headers={"Range": "bytes=10-19"}) as resp:
        assert (resp.status, resp.headers["X-Cache-Status"]) == (206, "HIT")
        assert await resp.read() == expected[10:20]
    assert _origin_fetches(nginx, path) == 1


async def test_a_junk_query_on_media_is_no_way_past_the_cache(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    """``?x=N`` used to make a new cache object each time: a way to the origin (and, for LL-HLS, the API)."""
    nginx = start_nginx(hls_media, fake_api[1].port, edge=True)
    path = f"/hls/{hls_media.debate}/v1/chapters.json"
    assert (await _get(http, nginx.edge + path + "?lang=fr"))[1] == "MISS"
    for n in range(5):
        assert (await _get(http, nginx.edge + path + f"?x={n}"))[1] == "HIT"
    assert (await _get(http, nginx.edge + path))[1] == "HIT"
    assert len(await nginx.logged(lambda line: f"GET {path}" in line, 1)) == 1


async def test_api_responses_are_cached_only_when_the_api_says_so(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    api, upstream = fake_api
    nginx = start_nginx(hls_media, upstream.port, edge=True)
    for _ in range(3):
        await _get(http, nginx.edge + "/api/v1/ping")
        await _get(http, nginx.edge + "/api/v1/cacheable")
    assert api.hits["ping"] == 3
    assert api.hits["cacheable"] == 1


async def test_a_stampede_on_a_cold_object_costs_the_origin_one_fetch(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    upstream_port = fake_api[1].port
    origin = start_nginx(hls_media, upstream_port)
    edge = start_nginx(hls_media, upstream_port, edge=True, edge_origin=origin.origin)
    path = f"/hls/{hls_media.debate}/v1/download.m4a"
    expected = hls_media.file(path.removeprefix("/hls/")).read_bytes()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as many:
        results = await asyncio.gather(*(_get(many, edge.edge + path) for _ in range(100)))
    assert all(status == 200 and body == expected for status, _, body in results)
    assert [cache for _, cache, _ in results].count("MISS") == 1
    assert _origin_fetches(origin, path) == 1


async def test_the_edge_serves_stale_copies_while_the_origin_is_down(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    upstream_port = fake_api[1].port
    origin = start_nginx(hls_media, upstream_port)
    edge = start_nginx(hls_media, upstream_port, edge=True, edge_origin=origin.origin)
    master = f"{edge.edge}/hls/{hls_media.debate}/master.m3u8"  # max-age=2: soon stale
    segment = f"{edge.edge}/hls/{hls_media.debate}/v1/a64/seg_3.m4s"
    status, cache, master_body = await _get(http, master)
    assert (status, cache) == (200, "MISS")
    segment_body = (await _get(http, segment))[2]
    origin.stop()

    # once the playlist's two seconds have passed, it is served stale rather than failing
    cache = "HIT"
    for _ in range(100):
        status, cache, body = await _get(http, master)
        assert status == 200
        assert body == master_body
        if cache != "HIT":
            break
        await asyncio.sleep(0.1)
    assert cache in ("STALE", "UPDATING")
    assert await _get(http, segment) == (200, "HIT", segment_body)

    # what the edge never had cannot be served: a clear problem, not a hang
    async with http.get(f"{edge.edge}/hls/{hls_media.debate}/v1/a64/seg_4.m4s") as resp:
        assert resp.status == 502
        assert resp.headers["Content-Type"] == "application/problem+json"


async def test_a_changing_playlist_reaches_clients_through_the_edge(
    own_hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    """Live and growing playlists are short-cached: the edge refreshes them within seconds."""
    nginx = start_nginx(own_hls_media, fake_api[1].port, edge=True)
    relative = f"{own_hls_media.debate}/live/index.m3u8"
    url = f"{nginx.edge}/hls/{relative}"
    assert (await _get(http, url))[1] == "MISS"
    playlist = own_hls_media.file(relative)
    replacement = playlist.with_suffix(".tmp")
    replacement.write_text(playlist.read_text() + "#EXTINF:1.0,\nseg_99.m4s\n")
    replacement.rename(playlist)
    seen: list[str | None] = []
    for _ in range(100):
        status, cache, body = await _get(http, url)
        assert status == 200
        seen.append(cache)
        if body.endswith(b"seg_99.m4s\n"):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the edge kept the old playlist: {seen}")
    assert seen[0] == "HIT"  # it was cached meanwhile

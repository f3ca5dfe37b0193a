"""LL-HLS through real nginx: the requests the API holds (blocking reloads, hinted parts) are rate limited
per address at the origin, and the edge caches them by the LL-HLS directives only (issue #22, item 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.edge.conftest import RunningNginx
from tests.edge.hls_media import HlsMedia
from tests.live.fake_rung import FakeLiveRung


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str | None, bytes]:
    async with http.get(url) as response:
        return response.status, response.headers.get("X-Cache-Status"), await response.read()


@pytest.fixture
def live_behind_nginx(
    aiohttp_server: Callable[..., Any],
    make_settings: Callable[..., Settings],
    start_nginx: Any,
    tmp_path: Path,
) -> Callable[..., Awaitable[tuple[FakeLiveRung, RunningNginx]]]:
    """``await live_behind_nginx(**nginx_settings)``: a live rung (one part written), the API, nginx."""

    async def start(**nginx_settings: Any) -> tuple[FakeLiveRung, RunningNginx]:
        media = HlsMedia(root=tmp_path / "media", debate="fakelive", secret=tmp_path / "secret")
        rung = FakeLiveRung(media.root, media.debate)
        rung.add_part()
        api = await aiohttp_server(create_app(make_settings(media_root_dir=media.root, behind_nginx=True)))
        return rung, start_nginx(media, api.port, **nginx_settings)

    return start


async def test_held_live_requests_are_rate_limited_per_address_at_the_origin(
    live_behind_nginx: Callable[..., Awaitable[tuple[FakeLiveRung, RunningNginx]]],
    http: aiohttp.ClientSession,
) -> None:
    rung, nginx = await live_behind_nginx(nginx_hls_live_rate=1, nginx_hls_live_burst=3)
    statuses = []
    for n in range(8):
        status, _, body = await _get(
            http, nginx.origin + rung.path("index.m3u8") + f"?_HLS_msn=0&_HLS_part=0&x={n}"
        )
        statuses.append(status)
        if status == 429:
            assert b'"status":429' in body
    assert statuses[:4] == [200] * 4 and 429 in statuses[4:]
    # the plain playlist and media files are nginx's own: not limited
    for _ in range(8):
        assert (await _get(http, nginx.origin + rung.path("index.m3u8")))[0] == 200


async def test_the_edge_caches_live_playlists_by_their_ll_hls_directives_only(
    live_behind_nginx: Callable[..., Awaitable[tuple[FakeLiveRung, RunningNginx]]],
    http: aiohttp.ClientSession,
) -> None:
    rung, nginx = await live_behind_nginx(edge=True)
    playlist = nginx.edge + rung.path("index.m3u8")
    status, cache, first = await _get(http, playlist + "?_HLS_msn=0&_HLS_part=0&x=1")
    assert (status, cache) == (200, "MISS") and b"#EXT-X-PART:" in first
    # other junk, another order: the same object
    for query in ("?_HLS_msn=0&_HLS_part=0&x=2", "?x=3&_HLS_part=0&_HLS_msn=0"):
        assert await _get(http, playlist + query) == (200, "HIT", first)
    # another directive is another answer
    assert (await _get(http, playlist + "?_HLS_msn=0&_HLS_part=0&_HLS_skip=YES"))[1] == "MISS"
    assert (await _get(http, playlist + "?_HLS_msn=0"))[1] == "MISS"
    api_calls = await nginx.logged(lambda line: "/hls/" in line and "_HLS_msn" in line, 3)
    assert len(api_calls) == 3 and not any("x=" in line for line in api_calls)

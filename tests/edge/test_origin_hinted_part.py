"""Behind real nginx (origin and edge cache): a live part nginx does not have yet goes to the API, which
holds a request for the hinted part until the worker writes it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.edge.hls_media import HlsMedia
from tests.live.fake_rung import FakeLiveRung


async def _fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, bytes, dict[str, str], float]:
    async with http.get(url) as response:
        return response.status, await response.read(), dict(response.headers), time.monotonic()


async def test_a_hinted_part_asked_for_early_arrives_through_nginx_once_written(
    aiohttp_server: Callable[..., Any],
    make_settings: Callable[..., Settings],
    start_nginx: Any,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    media = HlsMedia(root=tmp_path / "media", debate="fakelive", secret=tmp_path / "secret")
    rung = FakeLiveRung(media.root, media.debate)
    api = await aiohttp_server(create_app(make_settings(media_root_dir=media.root, behind_nginx=True)))
    nginx = start_nginx(media, api.port, edge=True)
    delays = {}
    for via in ("origin", "edge", "edge"):
        base = getattr(nginx, via)
        # the edge keeps the plain playlist for 2 s: the hint as the origin has it now
        async with http.get(nginx.origin + rung.path("index.m3u8")) as response:
            assert f'URI="{rung.hint}"' in await response.text()
        name = rung.hint
        waiting = asyncio.create_task(_fetch(http, base + rung.path(name)))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "answered before the part was written"
        data = rung.add_part()
        written = time.monotonic()
        async with asyncio.timeout(5):
            status, body, headers, arrived = await waiting
        assert (status, body) == (200, data)
        assert headers["Content-Type"] == "video/iso.segment"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Access-Control-Allow-Origin"] == "*"
        delays.setdefault(via, []).append(arrived - written)
        # from now on nginx serves it from disk (the edge from its cache)
        status, body, headers, _ = await _fetch(http, base + rung.path(name))
        assert (status, body) == (200, data)
        if via == "edge":
            assert headers["X-Cache-Status"] == "HIT"
    print(
        "hinted part written → answered through nginx:",
        {k: [f"{d * 1000:.0f} ms" for d in v] for k, v in delays.items()},
    )

    # a name far beyond the hint: 404 at once, and not cached by the edge once it exists
    far = rung.path("part_3_0.m4s")
    started = time.monotonic()
    for base in (nginx.origin, nginx.edge):
        status, _, headers, _ = await _fetch(http, base + far)
        assert status == 404 and headers["Content-Type"].startswith("application/problem+json")
    assert time.monotonic() - started < 2.0
    while not (rung.directory / "part_3_0.m4s").exists():
        rung.add_part()
    status, body, _, _ = await _fetch(http, nginx.edge + far)
    assert (status, body) == (200, (rung.directory / "part_3_0.m4s").read_bytes())

"""Without nginx in front, `serve` answers /hls/ itself: clients must not tell the difference."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from robian_media.app import create_app
from tests.edge.hls_media import SECRET, HlsMedia
from tests.edge.test_origin_media import PUBLISHED, _escapes

COMPARED = (
    "Content-Type",
    "Cache-Control",
    "Content-Length",
    "Accept-Ranges",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
)
CORS = tuple(name for name in COMPARED if name.startswith("Access-Control"))


@pytest.fixture
async def both(
    hls_media: HlsMedia, fake_api: Any, start_nginx: Any, aiohttp_client: Any, make_settings: Any
) -> tuple[Any, str]:
    aiohttp_side = await aiohttp_client(create_app(make_settings(media_root_dir=hls_media.root)))
    return aiohttp_side, start_nginx(hls_media, fake_api[1].port).origin


def _picked(headers: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: headers.get(name) for name in names}


async def test_media_headers_are_the_same(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    aiohttp_side, nginx = both
    for relative, *_ in PUBLISHED:
        path = f"/hls/{hls_media.debate}/{relative}"
        for headers in (
            {"Accept-Encoding": "identity"},
            {"Range": "bytes=5-104", "Accept-Encoding": "identity"},
        ):
            direct = await aiohttp_side.get(path, headers=headers)
            async with http.get(nginx + path, headers=headers) as proxied:
                assert direct.status == proxied.status, path
                # nginx leaves Accept-Ranges off a 206 (it is already answering a range); aiohttp repeats it
                names = (
                    COMPARED if direct.status == 200 else tuple(n for n in COMPARED if n != "Accept-Ranges")
                )
                assert _picked(direct.headers, names) == _picked(proxied.headers, names), path
                assert await direct.read() == await proxied.read(), path


async def test_head_is_the_same(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    # players and caches probe segments with HEAD: it must answer like GET, without a body
    aiohttp_side, nginx = both
    path = f"/hls/{hls_media.debate}/v1/a64/seg_1.m4s"
    direct = await aiohttp_side.head(path, headers={"Accept-Encoding": "identity"})
    async with http.head(nginx + path, headers={"Accept-Encoding": "identity"}) as proxied:
        assert direct.status == proxied.status == 200
        assert _picked(direct.headers, COMPARED) == _picked(proxied.headers, COMPARED)


async def test_preflight_is_the_same(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    aiohttp_side, nginx = both
    path = f"/hls/{hls_media.debate}/v1/a64/seg_1.m4s"
    headers = {"Origin": "https://player.example", "Access-Control-Request-Method": "GET"}
    direct = await aiohttp_side.options(path, headers=headers)
    async with http.options(nginx + path, headers=headers) as proxied:
        assert direct.status == proxied.status == 204
        assert _picked(direct.headers, CORS) == _picked(proxied.headers, CORS)


async def test_both_refuse_the_same_escapes(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    aiohttp_side, nginx = both
    for path in [*_escapes(hls_media.debate), f"/hls/{hls_media.debate}/v1/.complete"]:
        url = aiohttp.client.URL(path, encoded=True)
        direct = await aiohttp_side.get(url)
        assert direct.status in (400, 403, 404), path
        assert SECRET not in await direct.read(), path
        async with http.get(aiohttp.client.URL(nginx + path, encoded=True)) as proxied:
            assert proxied.status in (400, 403, 404), path


async def test_only_the_version_marker_publishes_and_no_symlink_is_followed(
    own_hls_media: HlsMedia,
    fake_api: Any,
    start_nginx: Any,
    aiohttp_client: Any,
    make_settings: Any,
    http: aiohttp.ClientSession,
) -> None:
    debate = own_hls_media.file(own_hls_media.debate)
    (debate / "v2" / "a64" / ".complete").write_text("")  # a marker in the wrong place publishes nothing
    (debate / ".complete").write_text("")
    (debate / "v1" / "a64" / "alias.m4s").symlink_to(debate / "v1" / "a64" / "seg_1.m4s")  # even inside
    aiohttp_side = await aiohttp_client(create_app(make_settings(media_root_dir=own_hls_media.root)))
    nginx = start_nginx(own_hls_media, fake_api[1].port).origin
    playlist = f"/hls/{own_hls_media.debate}/v2/a64/index.m3u8"
    direct = await aiohttp_side.get(playlist)
    async with http.get(nginx + playlist) as proxied:
        assert direct.headers["Cache-Control"] == proxied.headers["Cache-Control"] == "public, max-age=2"
    alias = f"/hls/{own_hls_media.debate}/v1/a64/alias.m4s"
    assert (await aiohttp_side.get(alias)).status == 404
    async with http.get(nginx + alias) as proxied:
        assert proxied.status in (403, 404)


async def test_errors_carry_cors_like_nginx(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    # a browser sees a CORS-less error as a network failure, not as the status a player can act on
    aiohttp_side, nginx = both
    origin = {"Origin": "https://player.example"}
    missing = f"/hls/{hls_media.debate}/v1/a64/part_99_0.m4s"
    direct = await aiohttp_side.get(missing, headers=origin)
    async with http.get(nginx + missing, headers=origin) as proxied:
        assert direct.status == proxied.status == 404
        assert _picked(direct.headers, CORS) == _picked(proxied.headers, CORS)
    # a refused blocking reload (tests/live/test_live_ll_hls.py has _HLS_msn too far on a live sitting)
    refused = await aiohttp_side.get(
        f"/hls/{hls_media.debate}/live/index.m3u8", params={"_HLS_part": "1"}, headers=origin
    )
    assert refused.status == 400
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in refused.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "relative", ["master.m3u8", "v1/a64/index.m3u8", "v1/chapters.json", "v1/chapters.vtt", "live/index.m3u8"]
)
async def test_text_media_is_gzipped_like_nginx(
    both: tuple[Any, str], hls_media: HlsMedia, http: aiohttp.ClientSession, relative: str
) -> None:
    aiohttp_side, nginx = both
    path = f"/hls/{hls_media.debate}/{relative}"
    headers = {"Accept-Encoding": "gzip, deflate"}
    direct = await aiohttp_side.get(path, headers=headers)
    async with http.get(nginx + path, headers=headers) as proxied:
        assert direct.headers.get("Content-Encoding") == proxied.headers.get("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in direct.headers["Vary"]
        assert await direct.read() == await proxied.read() == hls_media.file(path[5:]).read_bytes()


async def test_segments_are_not_gzipped_without_nginx(both: tuple[Any, str], hls_media: HlsMedia) -> None:
    aiohttp_side, _ = both
    for relative in ("v1/a64/seg_1.m4s", "v1/ts64/seg_0.ts", "v1/download.m4a"):
        direct = await aiohttp_side.get(
            f"/hls/{hls_media.debate}/{relative}", headers={"Accept-Encoding": "gzip"}
        )
        assert direct.status == 200
        assert "Content-Encoding" not in direct.headers, relative

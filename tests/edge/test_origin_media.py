"""The origin serving the media root under /hls/: types, caching, ranges, CORS, and no way out of the root."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.edge.conftest import RunningNginx
from tests.edge.hls_media import SECRET, HlsMedia

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=2"

# (path under the debate, Content-Type, Cache-Control)
PUBLISHED = [
    ("master.m3u8", "application/vnd.apple.mpegurl", SHORT),
    ("v1/master.m3u8", "application/vnd.apple.mpegurl", IMMUTABLE),
    ("v1/a64/index.m3u8", "application/vnd.apple.mpegurl", IMMUTABLE),
    ("v1/a64/init.mp4", "audio/mp4", IMMUTABLE),
    ("v1/a64/seg_1.m4s", "video/iso.segment", IMMUTABLE),
    ("v1/ts64/index.m3u8", "application/vnd.apple.mpegurl", IMMUTABLE),
    ("v1/ts64/seg_0.ts", "video/mp2t", IMMUTABLE),
    ("v1/chapters.json", "application/json", IMMUTABLE),
    ("v1/chapters.vtt", "text/vtt", IMMUTABLE),
    ("v1/download.m4a", "audio/mp4", IMMUTABLE),
    # v2 has no .complete marker yet: its playlists still grow, its segments are final
    ("v2/master.m3u8", "application/vnd.apple.mpegurl", SHORT),
    ("v2/a64/index.m3u8", "application/vnd.apple.mpegurl", SHORT),
    ("v2/a64/seg_1.m4s", "video/iso.segment", IMMUTABLE),
    ("live/index.m3u8", "application/vnd.apple.mpegurl", SHORT),
]


@pytest.fixture
async def origin(hls_media: HlsMedia, fake_api: Any, start_nginx: Any) -> RunningNginx:
    _, upstream = fake_api
    return start_nginx(hls_media, upstream.port)


@pytest.mark.parametrize(("relative", "content_type", "cache_control"), PUBLISHED)
async def test_media_has_its_type_and_cache_policy(
    origin: RunningNginx,
    hls_media: HlsMedia,
    http: aiohttp.ClientSession,
    relative: str,
    content_type: str,
    cache_control: str,
) -> None:
    path = f"{hls_media.debate}/{relative}"
    async with http.get(f"{origin.origin}/hls/{path}", headers={"Accept-Encoding": "identity"}) as resp:
        body = await resp.read()
        assert resp.status == 200
        assert resp.headers["Content-Type"] == content_type
        assert resp.headers["Cache-Control"] == cache_control
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert body == hls_media.file(path).read_bytes()


async def test_publishing_a_version_makes_its_playlists_immutable(
    own_hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    """The packager's final step writes {debate}/v{n}/.complete; from then on clients may keep them."""
    nginx = start_nginx(own_hls_media, fake_api[1].port)
    url = f"{nginx.origin}/hls/{own_hls_media.debate}/v2/a64/index.m3u8"
    async with http.get(url) as resp:
        assert resp.headers["Cache-Control"] == SHORT
        assert "#EXT-X-ENDLIST" not in await resp.text()
    playlist = own_hls_media.file(f"{own_hls_media.debate}/v2/a64/index.m3u8")
    playlist.write_text(playlist.read_text() + "#EXT-X-ENDLIST\n")
    own_hls_media.file(f"{own_hls_media.debate}/v2/.complete").write_text("")
    async with http.get(url) as resp:
        assert resp.headers["Cache-Control"] == IMMUTABLE
        assert (await resp.text()).endswith("#EXT-X-ENDLIST\n")


async def test_a_growing_playlist_is_never_served_stale(
    own_hls_media: HlsMedia, fake_api: Any, start_nginx: Any, http: aiohttp.ClientSession
) -> None:
    """The packager replaces EVENT playlists atomically (rename): each request sees the newest one."""
    nginx = start_nginx(own_hls_media, fake_api[1].port)
    for relative in ("v2/a64/index.m3u8", "master.m3u8", "live/index.m3u8"):
        url = f"{nginx.origin}/hls/{own_hls_media.debate}/{relative}"
        async with http.get(url) as resp:
            await resp.read()
        playlist = own_hls_media.file(f"{own_hls_media.debate}/{relative}")
        replacement = playlist.with_suffix(".tmp")
        replacement.write_text(playlist.read_text() + "#EXTINF:2.0,\nseg_99.m4s\n")
        replacement.rename(playlist)
        async with http.get(url) as resp:
            assert (await resp.text()).endswith("seg_99.m4s\n"), relative


async def test_ranges_are_served(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    path = f"{hls_media.debate}/v1/download.m4a"
    whole = hls_media.file(path).read_bytes()
    async with http.get(f"{origin.origin}/hls/{path}", headers={"Range": "bytes=100-1099"}) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 100-1099/{len(whole)}"
        assert await resp.read() == whole[100:1100]
    async with http.get(f"{origin.origin}/hls/{path}", headers={"Range": "bytes=-500"}) as resp:
        assert resp.status == 206
        assert await resp.read() == whole[-500:]


async def test_cors_preflight_is_answered(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    headers = {
        "Origin": "https://player.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
    }
    for relative in ("v1/a64/seg_1.m4s", "v1/a64/index.m3u8", "master.m3u8", "v2/a64/index.m3u8"):
        url = f"{origin.origin}/hls/{hls_media.debate}/{relative}"
        async with http.options(url, headers=headers) as resp:
            assert resp.status == 204, relative
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "GET" in resp.headers["Access-Control-Allow-Methods"]
            assert "Range" in resp.headers["Access-Control-Allow-Headers"]
            assert "Content-Range" in resp.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("relative", ["v1/a64/index.m3u8", "v1/chapters.json", "v1/chapters.vtt"])
async def test_text_media_is_gzipped_for_clients_that_accept_it(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession, relative: str
) -> None:
    path = f"{hls_media.debate}/{relative}"
    async with http.get(f"{origin.origin}/hls/{path}", headers={"Accept-Encoding": "gzip"}) as resp:
        assert resp.headers.get("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in resp.headers["Vary"]
        assert await resp.read() == hls_media.file(path).read_bytes()  # inflated by the client


async def test_segments_are_not_recompressed(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    url = f"{origin.origin}/hls/{hls_media.debate}/v1/a64/seg_1.m4s"
    async with http.get(url, headers={"Accept-Encoding": "gzip"}) as resp:
        assert "Content-Encoding" not in resp.headers


def _escapes(debate: str) -> list[str]:
    return [
        f"/hls/{debate}/v1/a64/leak.m4s",  # a symlink to a file outside the root
        f"/hls/{debate}/v1/outside/secret.m4s",  # through a symlinked directory
        f"/hls/{debate}/v1/a64/../../../../outside/secret.m4s",
        f"/hls/{debate}/%2e%2e/%2e%2e/%2e%2e/outside/secret.m4s",
        f"/hls/{debate}/v1/a64%2F..%2F..%2F..%2F..%2Foutside%2Fsecret.m4s",
        "/hls/..%2F..%2Foutside%2Fsecret.m4s",
        "/hls/%252e%252e/%252e%252e/outside/secret.m4s",  # double-encoded
        f"/hls/{debate}/v1/a64/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2foutside/secret.m4s",
        "/hls/..\\..\\outside\\secret.m4s",
        f"/hls/{debate}/v1/a64/seg_1.m4s%00.m4s",
        "/_media/../outside/secret.m4s",
    ]


async def test_nothing_outside_the_media_root_is_reachable(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    for path in _escapes(hls_media.debate):
        async with http.get(aiohttp.client.URL(origin.origin + path, encoded=True)) as resp:
            body = await resp.read()
            assert resp.status in (400, 403, 404), (path, resp.status)
            assert SECRET not in body, path


@pytest.mark.parametrize(
    "relative",
    [
        "v1/.complete",
        "v1/.hidden.json",
        "v1/",  # no directory listings
        "",
        "v1/a64/",
        "v1/a64/index.m3u8.bak",  # only the published types
        "v1/a64/seg_1.m4s/",
    ],
)
async def test_hidden_files_and_directories_are_not_found(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession, relative: str
) -> None:
    async with http.get(f"{origin.origin}/hls/{hls_media.debate}/{relative}") as resp:
        assert resp.status == 404
        assert resp.headers["Content-Type"] == "application/problem+json"
        problem = await resp.json(content_type=None)
        assert problem["status"] == 404
        assert problem["title"] == "Not found"


async def test_internal_download_location_is_not_public(
    origin: RunningNginx, hls_media: HlsMedia, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{origin.origin}/_media/{hls_media.debate}/v1/download.m4a") as resp:
        assert resp.status == 404
    async with http.get(f"{origin.origin}/_hls_growing/{hls_media.debate}/v2/a64/index.m3u8") as resp:
        assert resp.status == 404

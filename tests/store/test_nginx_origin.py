"""``robian-media nginx-conf`` with the s3 store: an nginx origin fetching /hls/… from the bucket
(path-style), keeping immutable objects in its disk cache, and sending downloads the API authorised
and clips (X-Accel-Redirect) from the bucket too."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.media.store import create_media_store
from robian_media.settings import Settings
from tests.services import NginxServer, free_port
from tests.store.s3_server import S3Server
from tests.store.test_s3_store import DEBATE, version_dir

IMMUTABLE = "public, max-age=31536000, immutable"


def public_read_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Anyone may read the media prefix's objects (not list the bucket, not write)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadMedia",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
            }
        ],
    }


@pytest.fixture
async def api_server(aiohttp_server: Any) -> Any:
    """The API's part in a download: authorise, then hand the file to nginx."""

    async def download(request: web.Request) -> web.Response:
        relative = f"{request.match_info['debate']}/v1/download.m4a"
        return web.Response(
            headers={
                "Content-Type": "audio/mp4",
                "Content-Disposition": 'attachment; filename="sitting.m4a"',
                "X-Accel-Redirect": f"/_media/{relative}",
            }
        )

    async def clip(request: web.Request) -> web.Response:
        relative = f"clips/{request.match_info['debate']}/v1/0-1000.m4a"
        headers = {"Content-Type": "audio/mp4", "X-Accel-Redirect": f"/_media/{relative}"}
        return web.Response(headers=headers)

    async def live_part(request: web.Request) -> web.Response:
        # the API's part in a live part the bucket lacks: (held, then) the part
        return web.Response(body=b"part from the API", content_type="video/iso.segment")

    app = web.Application()
    app.router.add_get("/hls/{path:.+\\.m4s}", live_part)
    app.router.add_get("/api/v1/debates/{debate}/download", download)
    app.router.add_get("/api/v1/debates/{debate}/clip.m4a", clip)
    return await aiohttp_server(app)


@pytest.fixture
def store_settings(tmp_path: Path, s3_server: S3Server, bucket: str) -> Settings:
    user = {"nginx_user": "root"} if os.geteuid() == 0 else {}
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        media_store=f"s3://{bucket}/media",
        s3_endpoint_url=s3_server.url,
        **user,
    )


@pytest.fixture
def origin(tmp_path: Path, store_settings: Settings, api_server: Any) -> Iterator[str]:
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    listen = Address("127.0.0.1", free_port())
    layout = NginxLayout(listen=listen, upstreams=[Address("127.0.0.1", api_server.port)], prefix=prefix)
    config = prefix / "nginx.conf"
    config.write_text(render_nginx_conf(store_settings, layout))
    server = NginxServer(config, prefix, [listen.port]).start()
    yield f"http://{listen}"
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_origin_serves_the_bucket_and_caches_immutable_objects(
    origin: str, store_settings: Settings, http: aiohttp.ClientSession, tmp_path: Path, s3: Any, bucket: str
) -> None:
    # the deployment's choice (docs/media-store.md): the media prefix is public-read
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket, "media")))
    store = create_media_store(store_settings)
    published = version_dir(tmp_path / "scratch", 1)
    await store.publish(DEBATE, 1, published)

    segment = f"{origin}/hls/{DEBATE}/v1/a32/seg_0.m4s"
    statuses = []
    for _ in range(2):
        # a page's request: the store's own CORS answer must not double ours
        async with http.get(segment, headers={"Origin": "https://app.example"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "video/iso.segment"
            assert response.headers["Cache-Control"] == IMMUTABLE
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert response.headers.getall("Access-Control-Allow-Origin") == ["*"]
            assert not [name for name in response.headers if name.lower().startswith("x-amz")]
            assert await response.read() == (published / "a32" / "seg_0.m4s").read_bytes()
            statuses.append(response.headers["X-Cache-Status"])
    assert statuses == ["MISS", "HIT"]

    async with http.get(f"{origin}/hls/{DEBATE}/master.m3u8", headers={"Accept-Encoding": "identity"}) as top:
        assert top.status == 200
        assert top.headers["Content-Type"] == "application/vnd.apple.mpegurl"
        assert top.headers["Cache-Control"] == "public, max-age=2"
        assert (await top.text()).splitlines()[-1] == "v1/a32/index.m3u8"

    async with http.get(segment, headers={"Range": "bytes=10-19"}) as part:
        assert part.status == 206 and await part.read() == bytes([1]) * 10

    async with http.get(f"{origin}/hls/{DEBATE}/v7/master.m3u8") as missing:
        assert missing.status == 404
        assert missing.headers["Content-Type"] == "application/problem+json"

    async with http.get(f"{origin}/api/v1/debates/{DEBATE}/download") as download:
        assert download.status == 200
        assert download.headers["Content-Disposition"] == 'attachment; filename="sitting.m4a"'
        assert await download.read() == (published / "download.m4a").read_bytes()
    async with http.get(f"{origin}/_media/{DEBATE}/v1/download.m4a") as direct:
        assert direct.status == 404  # only through the API's X-Accel-Redirect

    # a clip the API cut and put in the bucket: the same internal location, the clip's key
    await store.put(f"clips/{DEBATE}/v1/0-1000.m4a", b"clip bytes")
    async with http.get(f"{origin}/api/v1/debates/{DEBATE}/clip.m4a", headers={"Range": "bytes=5-"}) as clip:
        assert clip.status == 206 and await clip.read() == b"bytes"


async def test_a_live_part_the_bucket_lacks_is_the_apis_to_answer(
    origin: str, store_settings: Settings, api_server: Any, http: aiohttp.ClientSession, s3: Any, bucket: str
) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket, "media")))
    part = f"{origin}/hls/{DEBATE}/v1/a32/part_3_1.m4s"
    async with http.get(part) as response:
        assert response.status == 200 and await response.read() == b"part from the API"
        assert response.headers.getall("Access-Control-Allow-Origin") == ["*"]
    # the bucket's miss was not cached: once the part is put, the bucket's object
    await create_media_store(store_settings).put(f"{DEBATE}/v1/a32/part_3_1.m4s", b"part in the bucket")
    async with http.get(part) as response:
        assert response.status == 200 and await response.read() == b"part in the bucket"
        assert response.headers["X-Cache-Status"] == "MISS"

    # any other missing key stays the origin's 404 problem, without asking the API
    async with http.get(f"{origin}/hls/{DEBATE}/v1/a32/init.mp4") as response:
        assert response.status == 404 and response.content_type == "application/problem+json"

    await api_server.close()
    async with http.get(f"{origin}/hls/{DEBATE}/v1/a32/part_3_2.m4s") as response:
        assert response.status == 502 and response.content_type == "application/problem+json"

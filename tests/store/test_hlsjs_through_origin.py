"""hls.js in Chromium plays a sitting published to the bucket, through the nginx origin that
``robian-media nginx-conf`` renders for the s3 store (nothing of it on the API's or nginx's disk)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from tests.ingest.conftest import submit, wait_job
from tests.ingest.origin import Origin
from tests.live.test_live_hlsjs import play
from tests.services import NginxServer, free_port
from tests.store.s3_server import S3Server
from tests.store.test_nginx_origin import public_read_policy


@pytest.fixture
def start_origin(tmp_path: Path) -> Iterator[Any]:
    servers: list[NginxServer] = []

    def start(settings: Any, api_port: int) -> str:
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        listen = Address("127.0.0.1", free_port())
        layout = NginxLayout(listen=listen, upstreams=[Address("127.0.0.1", api_port)], prefix=prefix)
        config = prefix / "nginx.conf"
        config.write_text(render_nginx_conf(settings, layout))
        servers.append(NginxServer(config, prefix, [listen.port]).start())
        return f"http://{listen}"

    yield start
    for server in servers:
        server.stop()


async def test_hls_js_plays_from_the_bucket_through_the_nginx_origin(
    aiohttp_client: Any, ingest_settings: Any, s3_settings: dict[str, Any], origin: Origin,
    s3_server: S3Server, s3: Any, bucket: str, start_origin: Any,
) -> None:  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket, "media")))
    settings = ingest_settings(**s3_settings)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    status, accepted = await submit(client, origin.url("/files/speech.m4a"))
    assert status == 202
    assert (await wait_job(client, accepted["job_id"]))["status"] == "succeeded"

    user = {"nginx_user": "root"} if os.geteuid() == 0 else {}
    nginx_settings = settings.model_copy(update={"s3_endpoint_url": s3_server.url, **user})
    origin_url = start_origin(nginx_settings, client.port)
    master = f"{origin_url}/hls/{accepted['debate_id']}/master.m3u8"

    result = await play(master, 8)
    assert result["supported"]
    samples = result["samples"]
    assert all(sample["fatal"] is None for sample in samples), samples
    times = [sample["time"] for sample in samples]
    assert times[-1] > times[len(times) // 2] > 0.5, samples  # playing, and still advancing at the end
    segments = [url for url in result["requests"] if url.endswith((".m4s", ".ts"))]
    assert segments and all(url.startswith(f"{origin_url}/hls/") for url in segments)

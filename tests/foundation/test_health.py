"""/health, /health/ready and /metrics as an operator sees them, with dependencies stopped for real."""

import tempfile
import warnings
from pathlib import Path
from typing import Any

from robian_media.app import create_app
from tests.services import RedisServer


async def test_liveness(client: Any) -> None:
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_ready_lists_every_dependency_up(client: Any) -> None:
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 200, body
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "postgres": "up",
        "redis": "up",
        "ffmpeg": "up",
        "media_root": "up",
    }
    assert body["checks"]["media_root"]["free_bytes"] > 0


async def test_ready_degrades_when_redis_stops_and_recovers(
    aiohttp_client: Any, make_settings: Any, redis_server: RedisServer
) -> None:
    client = await aiohttp_client(create_app(make_settings(redis_url=redis_server.url)))
    assert (await (await client.get("/health/ready")).json())["checks"]["redis"]["status"] == "up"
    redis_server.stop()
    resp = await client.get("/health/ready")
    body = await resp.json()
    # Redis is a speed layer: without it the server still serves, degraded
    assert resp.status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    redis_server.start()
    body = await (await client.get("/health/ready")).json()
    assert body["checks"]["redis"]["status"] == "up"


async def test_ready_is_503_while_postgres_is_down_and_recovers(
    aiohttp_client: Any, make_settings: Any
) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    pgdata = Path(tempfile.mkdtemp(prefix="robian-pgdown-"))
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        client = await aiohttp_client(create_app(make_settings(database_url=server.get_uri())))
        assert (await client.get("/health/ready")).status == 200
        server.cleanup()  # stops the server: the database is gone
        resp = await client.get("/health/ready")
        body = await resp.json()
        assert resp.status == 503
        assert body["status"] == "unavailable"
        assert body["checks"]["postgres"]["status"] == "down"
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        resp = await client.get("/health/ready")
        assert resp.status == 200, await resp.text()
    finally:
        server.cleanup()


async def test_ready_is_503_when_media_root_is_not_writable(
    aiohttp_client: Any, make_settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the media root should be")
    client = await aiohttp_client(create_app(make_settings(media_root_dir=blocker / "media")))
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 503
    assert body["checks"]["media_root"]["status"] == "down"


async def test_ready_is_503_when_ffmpeg_is_missing(aiohttp_client: Any, make_settings: Any) -> None:
    client = await aiohttp_client(create_app(make_settings(ffmpeg="/nonexistent/ffmpeg")))
    resp = await client.get("/health/ready")
    assert resp.status == 503
    assert (await resp.json())["checks"]["ffmpeg"]["status"] == "down"


async def test_metrics_count_requests_by_route(client: Any) -> None:
    for _ in range(3):
        await client.get("/health")
    await client.get("/no/such/page")
    text = await (await client.get("/metrics")).text()
    assert 'robian_http_requests_total{method="GET",route="/health",status="200"} 3.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "robian_http_request_duration_seconds_bucket" in text
    # what a leak shows first (the soak in bench/soak.py reads them)
    for gauge in ("robian_asyncio_tasks ", "process_resident_memory_bytes ", "process_open_fds "):
        assert gauge in text

"""PostgreSQL stops (immediate shutdown, as in a crash or a failover) and comes back.

Meanwhile: liveness stays up, readiness and every database-backed answer are fast 503 problems (no
hanging request, no 500), the process does not crash; afterwards the pools reconnect by themselves
and the ingest job submitted before the outage is finished, not lost.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from tests.conftest import ADMIN_TOKEN
from tests.faults.conftest import LIGHT_LADDER, eventually, timed_get
from tests.ingest.origin import Origin
from tests.services import PostgresServer, ServerProcess, server_env

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FAST = 3.0  # seconds: an answer during the outage comes at least this quickly


async def create_database(admin_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


async def test_postgres_down_then_back(own_postgres: PostgresServer, origin: Origin, tmp_path: Path) -> None:
    dsn = await create_database(own_postgres.admin_dsn, "robian")
    env = server_env(
        database_url=dsn,
        data_dir=str(tmp_path / "data"),
        admin_token=ADMIN_TOKEN,
        ingest_allow_private="true",
        workers="1",
        worker_poll_seconds="0.2",
        # a heartbeat during the outage is what used to stop procrastinate's worker for good
        worker_heartbeat_seconds="0.5",
        stalled_worker_seconds="5",
        job_retry_base_seconds="0.5",
        ladder=str(LIGHT_LADDER),
        rate_limit_per_minute="0",
    )
    server = ServerProcess(env, tmp_path / "server.log")
    await asyncio.to_thread(server.start)
    # and a worker process of its own, as deployed beside the API
    worker = ServerProcess({**env, "ROBIAN_WORKERS": "0"}, tmp_path / "worker.log", command="worker")
    await asyncio.to_thread(worker.start)
    assert await eventually(lambda: worker_running(worker), 30), worker.output()[-3000:]
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            await run_outage(http, server, own_postgres, origin)
        assert worker.alive(), worker.output()[-4000:]
        conn = await asyncpg.connect(dsn)
        try:
            renditions = await conn.fetch("SELECT debate_id, status FROM renditions ORDER BY debate_id")
        finally:
            await conn.close()
        # each sitting published once, though two attempts of the first may have run side by side
        assert sorted(r["status"] for r in renditions) == ["published", "published"], renditions
    finally:
        code = await asyncio.to_thread(server.stop)
        worker_code = await asyncio.to_thread(worker.stop)
    assert code == 0, server.output()[-4000:]
    assert worker_code == 0, worker.output()[-4000:]
    assert "unhandled error" not in server.output(), server.output()[-4000:]  # no 500 at any time


async def run_outage(
    http: aiohttp.ClientSession, server: ServerProcess, pg: PostgresServer, origin: Origin
) -> None:
    # a job whose download lasts through the outage (the source trickles out over ~12 s)
    async with http.post(
        "/api/v1/ingest", json={"source_url": origin.url("/slow/speech.m4a")}, headers=AUTH
    ) as r:
        assert r.status == 202, await r.text()
        accepted = await r.json()
    job_url = f"/api/v1/jobs/{accepted['job_id']}"
    await eventually(lambda: job_status(http, job_url, "running"), 30)

    await asyncio.to_thread(pg.stop)
    status, _, body, seconds = await timed_get(http, "/health/ready")
    assert status == 503 and seconds < FAST, (status, body, seconds)
    assert body is not None and body["checks"]["postgres"]["status"] == "down"
    status, _, _, _ = await timed_get(http, "/health")
    assert status == 200  # alive: an orchestrator must not restart it for this
    for path in (job_url, "/api/v1/debates?q=outage", "/api/v1/speakers?q=martin", "/api/v1/devices/me"):
        status, content_type, body, seconds = await timed_get(
            http, path, headers={"Authorization": "Bearer x"}
        )
        assert status == 503 and content_type == "application/problem+json", (path, status, body)
        assert seconds < FAST, (path, seconds)
    started = asyncio.get_running_loop().time()
    async with http.post(
        "/api/v1/ingest", json={"source_url": origin.url("/files/sitting.mp3")}, headers=AUTH
    ) as r:
        assert r.status == 503 and r.content_type == "application/problem+json", await r.text()
        assert r.headers.get("Retry-After")
    assert asyncio.get_running_loop().time() - started < FAST + 2
    await asyncio.sleep(2)  # the outage lasts a while: the worker meets it too
    assert server.alive()

    await asyncio.to_thread(pg.start)
    assert await eventually(lambda: status_is(http, "/health/ready", 200), 20), "readiness did not recover"
    assert await eventually(lambda: status_is(http, "/api/v1/debates?q=back", 200), 10), (
        "the API did not recover"
    )
    job = await eventually(lambda: job_status(http, job_url, "succeeded", "failed"), 120)
    assert job and job["status"] == "succeeded", job
    status, _, stream, _ = await timed_get(http, f"/api/v1/debates/{accepted['debate_id']}/stream")
    assert status == 200 and stream is not None and stream["live"] is False
    # the worker outlived the outage: a job submitted afterwards runs too
    async with http.post(
        "/api/v1/ingest", json={"source_url": origin.url("/files/sitting.mp3")}, headers=AUTH
    ) as r:
        assert r.status == 202, await r.text()
        later = await r.json()
    job = await eventually(
        lambda: job_status(http, f"/api/v1/jobs/{later['job_id']}", "succeeded", "failed"), 120
    )
    assert job and job["status"] == "succeeded", job


async def status_is(http: aiohttp.ClientSession, path: str, expected: int) -> bool:
    async with http.get(path) as response:
        return response.status == expected


async def job_status(http: aiohttp.ClientSession, path: str, *wanted: str) -> dict[str, Any] | None:
    async with http.get(path) as response:
        if response.status != 200:
            return None
        job: dict[str, Any] = await response.json()
        return job if job["status"] in wanted else None


async def worker_running(worker: ServerProcess) -> bool:
    return "worker running" in worker.output()

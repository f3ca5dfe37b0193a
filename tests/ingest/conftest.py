from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.ingest.media import make_media
from tests.ingest.origin import Origin

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LIGHT_LADDER = Path(__file__).resolve().parent / "ladder-light.json"
FINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
async def origin(media: Path) -> AsyncIterator[Origin]:
    server = await Origin(media).start()
    yield server
    await server.stop()


@pytest.fixture
def ingest_settings(make_settings: Callable[..., Settings], origin: Origin) -> Callable[..., Settings]:
    """Settings for ingest tests: fast heartbeats, polls and retries; the origin as the AN portal."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "workers": 2,
            "worker_poll_seconds": 0.2,
            "worker_heartbeat_seconds": 0.5,
            "stalled_worker_seconds": 5.0,
            "worker_shutdown_grace_seconds": 0.5,
            "job_retry_base_seconds": 0.3,
            "job_max_attempts": 3,
            "an_portal_hosts": ["127.0.0.1"],
            "an_acteur_url": origin.url("/opendata/{uid}.xml"),
            "an_organe_url": origin.url("/opendata/{uid}.xml"),
            # packaging is the packager's tests' business: here it only has to be quick
            "ladder": str(LIGHT_LADDER),
        }
        values.update(overrides)
        return make_settings(**values)

    return make


@pytest.fixture(autouse=True)
async def empty_queue(database_url: str) -> AsyncIterator[None]:
    """Each test starts and ends with no queued job and no registered worker of another test."""

    async def clear() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            await conn.execute("DELETE FROM procrastinate_workers")
        finally:
            await conn.close()

    await clear()
    yield
    await clear()


@pytest.fixture
async def ingest_client(
    aiohttp_client: Callable[..., Any], ingest_settings: Callable[..., Settings]
) -> TestClient[web.Request, web.Application]:
    """The server with its in-process worker (two jobs at once)."""
    return await aiohttp_client(create_app(ingest_settings()))


async def submit(client: TestClient[Any, Any], source_url: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post("/api/v1/ingest", json={"source_url": source_url, **fields}, headers=AUTH)
    return response.status, await response.json()


async def wait_job(
    client: TestClient[Any, Any], job_id: str, *, until: Callable[[dict[str, Any]], bool] | None = None,
    timeout: float = 120.0,
) -> dict[str, Any]:  # fmt: skip
    """Poll the job route until ``until(job)`` (default: a final status)."""
    check = until or (lambda job: job["status"] in FINAL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.get(f"/api/v1/jobs/{job_id}", headers=AUTH)  # the operator's view
        assert response.status == 200, await response.text()
        job = await response.json()
        if check(job):
            return job
        assert loop.time() < deadline, f"job still {job} after {timeout} s"
        await asyncio.sleep(0.1)


async def ffmpeg_reads(url: str) -> None:
    """FFmpeg as an HLS client (in a subprocess: the server under test shares our event loop)."""
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-nostdin", "-i", url, "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is inside ``directory`` (FFmpeg runs in the version dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue
        if cwd.is_relative_to(directory):
            found.append(int(proc.name))
    return found


async def packaging_ffmpeg(debate_dir: Path, timeout: float = 120.0) -> list[int]:
    """The pids of the FFmpeg encoding this debate's next version, once it has written a little."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not processes_in(debate_dir):
        assert loop.time() < deadline, "FFmpeg never ran in the debate's directory"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)  # some segments written: a real half-made version
    return processes_in(debate_dir)


@pytest.fixture
def no_leftover_processes(tmp_path: Path) -> Iterator[None]:
    yield
    assert processes_in(tmp_path) == []

"""/api/v1/debates/{id}/download: byte ranges from aiohttp, or X-Accel-Redirect through real nginx."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import pytest

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.factories import create_debate
from tests.services import free_port, wait_for_port

PAYLOAD = bytes(range(256)) * 40  # 10 240 bytes standing in for the .m4a
TITLE = "Séance publique : « l'accès aux soins »"


def write_download(media_root: Path, debate_id: Any, version: int = 1) -> Path:
    path = media_root / str(debate_id) / f"v{version}" / "download.m4a"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PAYLOAD)
    return path


def assert_attachment(headers: Any) -> None:
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="2026-03-10 Seance publique - ')
    assert f"filename*=UTF-8''{quote('2026-03-10 ' + TITLE.replace(':', '-'), safe='')}.m4a" in disposition


async def test_download_with_ranges(client: Any, db: asyncpg.Connection, settings: Settings) -> None:
    debate = await create_debate(db, title=TITLE)
    write_download(settings.media_root, debate)

    whole = await client.get(f"/api/v1/debates/{debate}/download")
    assert whole.status == 200 and await whole.read() == PAYLOAD
    assert whole.headers["Content-Type"] == "audio/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert_attachment(whole.headers)

    part = await client.get(f"/api/v1/debates/{debate}/download", headers={"Range": "bytes=1000-1999"})
    assert part.status == 206 and await part.read() == PAYLOAD[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(PAYLOAD)}"
    tail = await client.get(f"/api/v1/debates/{debate}/download", headers={"Range": "bytes=-100"})
    assert await tail.read() == PAYLOAD[-100:]
    beyond = await client.get(f"/api/v1/debates/{debate}/download", headers={"Range": "bytes=99999-"})
    assert beyond.status == 416

    legacy = await client.get(f"/api/debats/{debate}/file", headers={"Range": "bytes=0-9"})
    assert legacy.status == 206 and await legacy.read() == PAYLOAD[:10]


async def test_no_download_before_packaging_ends(client: Any, db: asyncpg.Connection) -> None:
    building = await create_debate(db, status="processing", rendition_status="building")
    resp = await client.get(f"/api/v1/debates/{building}/download")
    body = await resp.json(content_type=None)
    assert resp.status == 404 and "once packaging finishes" in body["detail"]
    never = await create_debate(db, status="pending", version=None)
    assert (await client.get(f"/api/v1/debates/{never}/download")).status == 404
    missing_file = await create_debate(db)
    resp = await client.get(f"/api/v1/debates/{missing_file}/download")
    assert resp.status == 404 and "missing" in (await resp.json(content_type=None))["detail"]


@pytest.fixture
def nginx_in_front(tmp_path: Path) -> Iterator[Callable[[int, Path], int]]:
    """Start nginx proxying to an app port, with the internal /_media/ location; yields its port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    procs: list[subprocess.Popen[bytes]] = []

    def start(app_port: int, media_root: Path) -> int:
        port = free_port()
        prefix = tmp_path / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read pytest's private tmp dirs
        temp_paths = "".join(
            f"{kind}_temp_path {prefix}/tmp/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"""{user} daemon off; worker_processes 1;
            pid {prefix}/nginx.pid; error_log {prefix}/error.log warn;
            events {{ worker_connections 64; }}
            http {{
                access_log off; {temp_paths}
                server {{
                    listen 127.0.0.1:{port};
                    location /_media/ {{ internal; alias {media_root}/; }}
                    location / {{ proxy_pass http://127.0.0.1:{app_port}; }}
                }}
            }}"""
        )
        procs.append(subprocess.Popen([binary, "-c", str(prefix / "nginx.conf"), "-p", str(prefix)]))
        wait_for_port(port)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


async def test_behind_nginx_the_file_comes_from_nginx(
    aiohttp_client: Callable[..., Any],
    make_settings: Callable[..., Settings],
    db: asyncpg.Connection,
    nginx_in_front: Callable[[int, Path], int],
) -> None:
    settings = make_settings(behind_nginx=True)
    client = await aiohttp_client(create_app(settings))
    debate = await create_debate(db, title=TITLE, version=2)
    write_download(settings.media_root, debate, version=2)

    direct = await client.get(f"/api/v1/debates/{debate}/download")
    assert direct.status == 200 and await direct.read() == b""
    assert direct.headers["X-Accel-Redirect"] == f"/_media/{debate}/v2/download.m4a"
    assert direct.headers["Content-Type"] == "audio/mp4"
    assert_attachment(direct.headers)

    port = nginx_in_front(client.server.port, settings.media_root)
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/api/v1/debates/{debate}/download"
        async with session.get(url, headers={"Range": "bytes=10-19"}) as resp:
            assert resp.status == 206 and await resp.read() == PAYLOAD[10:20]
            assert resp.headers["Content-Type"] == "audio/mp4"
            assert_attachment(resp.headers)
        async with session.get(f"http://127.0.0.1:{port}/_media/{debate}/v2/download.m4a") as resp:
            assert resp.status == 404  # internal: only reachable through the API's redirect

"""Real nginx, started by the tests on free ports with the configuration `robian-media nginx-conf` renders."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from robian_media.media.nginx_conf import Address, NginxLayout, parse_address, render_nginx_conf
from robian_media.settings import Settings
from tests.edge.fake_api import FakeApi
from tests.edge.hls_media import HlsMedia, build_hls_media
from tests.services import NginxServer, free_port


@pytest.fixture(scope="session")
def hls_media(tmp_path_factory: pytest.TempPathFactory) -> HlsMedia:
    """Shared by every test that only reads it."""
    return build_hls_media(tmp_path_factory.mktemp("hls"))


@pytest.fixture
def own_hls_media(hls_media: HlsMedia, tmp_path: Path) -> HlsMedia:
    """A copy a test may change (publish a version, ...)."""
    root = tmp_path / "media"
    shutil.copytree(hls_media.root, root, symlinks=True)
    return HlsMedia(root=root, debate=hls_media.debate, secret=hls_media.secret)


@dataclass
class RunningNginx:
    server: NginxServer
    prefix: Path
    origin: str
    edge: str | None

    def access_log(self, name: str = "access.log") -> list[str]:
        path = self.prefix / name
        return path.read_text().splitlines() if path.exists() else []

    async def logged(
        self, wanted: Callable[[str], bool], count: int, *, name: str = "access.log"
    ) -> list[str]:
        """The lines of a log that ``wanted`` picks, once there are ``count`` of them (or after 5 s): nginx
        writes a request's line when it has finished with it, which can be after its client has read
        the whole answer."""
        deadline = asyncio.get_running_loop().time() + 5.0
        while True:
            lines = [line for line in self.access_log(name) if wanted(line)]
            if len(lines) >= count or asyncio.get_running_loop().time() > deadline:
                return lines
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        self.server.stop()


def nginx_settings(media: HlsMedia, data_dir: Path, **overrides: Any) -> Settings:
    # as root, nginx's workers would run as nobody and could not read the test's private tmp dir
    user = {"nginx_user": "root"} if os.geteuid() == 0 else {}
    return Settings(_env_file=None, data_dir=data_dir, media_root_dir=media.root, **user, **overrides)


@pytest.fixture
def start_nginx(tmp_path: Path) -> Iterator[Callable[..., RunningNginx]]:
    """``start_nginx(media, upstream_port, edge=False, edge_origin=URL, **settings)``, stopped after."""
    running: list[RunningNginx] = []

    def start(
        media: HlsMedia,
        upstream_port: int,
        *,
        edge: bool = False,
        edge_origin: str | None = None,
        **overrides: Any,
    ) -> RunningNginx:
        prefix = tmp_path / f"nginx-{len(running)}"
        prefix.mkdir()
        listen = Address("127.0.0.1", free_port())
        edge_listen = Address("127.0.0.1", free_port()) if edge else None
        layout = NginxLayout(
            listen=listen,
            upstreams=[Address("127.0.0.1", upstream_port)],
            edge_listen=edge_listen,
            edge_origin=parse_address(edge_origin.removeprefix("http://")) if edge_origin else None,
            prefix=prefix,
        )
        config = prefix / "nginx.conf"
        config.write_text(render_nginx_conf(nginx_settings(media, tmp_path / "data", **overrides), layout))
        ports = [listen.port] + ([edge_listen.port] if edge_listen else [])
        server = NginxServer(config, prefix, ports).start()
        nginx = RunningNginx(
            server=server,
            prefix=prefix,
            origin=f"http://{listen}",
            edge=f"http://{edge_listen}" if edge_listen else None,
        )
        running.append(nginx)
        return nginx

    yield start
    for nginx in running:
        nginx.stop()


@pytest.fixture
async def fake_api(aiohttp_server: Callable[..., Any]) -> AsyncIterator[tuple[FakeApi, TestServer]]:
    api = FakeApi()
    server = await aiohttp_server(api.app())
    yield api, server
    api.release.set()  # lets any SSE handler still waiting finish


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session

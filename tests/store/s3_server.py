"""A real S3 API on 127.0.0.1 for the tests (moto's server mode), and a proxy in front of it that
records every request and can answer 503 SlowDown or go down, as a store under load or lost would."""

from __future__ import annotations

import asyncio
import io
import re
import urllib.request
import uuid
from collections.abc import Callable

from aiohttp import ClientSession, web
from moto.server import ThreadedMotoServer

from tests.services import free_port

SLOW_DOWN = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message></Error>"
)
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class S3Server:
    """moto_server in a thread: no authentication enforced, path-style URLs."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> S3Server:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def create_bucket(self) -> str:
        name = f"media-{uuid.uuid4().hex[:12]}"
        request = urllib.request.Request(f"{self.url}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        return name


class StoreProxy:
    """Forwards to the S3 server; ``log`` holds (method, path, status) of every request."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log: list[tuple[str, str, int]] = []
        self.slow_downs = 0  # the next requests answered 503 SlowDown
        self.failing: Callable[[str, str], bool] | None = None  # (method, path) → the store is down for it
        self.put_delay = 0.0  # seconds a PUT's answer is held back (the object is already written)
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    def down_for(self, method: str = ".*", path: str = ".*") -> None:
        self.failing = lambda m, p: bool(re.fullmatch(method, m) and re.search(path, p))

    def up(self) -> None:
        self.failing = None

    def puts(self) -> list[str]:
        return [path for method, path, status in self.log if method == "PUT" and status == 200]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if self.slow_downs > 0:
            self.slow_downs -= 1
            self.log.append((request.method, request.path, 503))
            return web.Response(status=503, text=SLOW_DOWN, content_type="application/xml")
        if self.failing is not None and self.failing(request.method, request.path):
            self.log.append((request.method, request.path, 500))
            return web.Response(status=500, text="store down")
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        data = io.BytesIO(await request.read())
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=data,
            allow_redirects=False, auto_decompress=False,
        ) as upstream:  # fmt: skip
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            self.log.append((request.method, request.path, upstream.status))
            status = upstream.status
        if request.method == "PUT" and self.put_delay:
            await asyncio.sleep(self.put_delay)
        if request.method == "HEAD":  # no body: the object's length as the store said it
            out["Content-Length"] = upstream.headers.get("Content-Length", "0")
            return web.Response(status=status, headers=out)
        return web.Response(status=status, body=io.BytesIO(body), headers=out)

    async def start(self) -> StoreProxy:
        self._session = ClientSession()
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

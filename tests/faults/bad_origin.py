"""Sources that misbehave, served from 127.0.0.1: what ingest must survive and explain.

- ``/truncated.m4a``: announces the whole file, sends half, hangs up;
- ``/endless/index.m3u8``: a media playlist that never ends (no ENDLIST, a new segment every 2 s);
- ``/huge.m4a``: ``Content-Length: 10 GB``, then a trickle of zeros;
- ``/slowloris.m4a``: the real file at 16 bytes a second;
- ``/loop``: a redirect to itself.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import web

from tests.services import free_port

TEN_GB = 10 * 1024**3


class BadOrigin:
    def __init__(self, media: Path) -> None:
        self.media = media
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return self.base + path

    async def _truncated(self, request: web.Request) -> web.StreamResponse:
        data = (self.media / "speech.m4a").read_bytes()
        response = web.StreamResponse(headers={"Content-Type": "audio/mp4", "Content-Length": str(len(data))})
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        assert request.transport is not None
        request.transport.close()  # hang up in the middle
        return response

    async def _endless_playlist(self, request: web.Request) -> web.Response:
        segments = sorted((self.media / "hls").glob("*.ts"))
        count = 3 + int((time.monotonic() - self.started) / 2)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:0"]
        for n in range(count):
            lines += ["#EXTINF:4.0,", f"seg{n}.ts?f={segments[n % len(segments)].name}"]
        return web.Response(text="\n".join(lines) + "\n", content_type="application/vnd.apple.mpegurl")

    async def _endless_segment(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.media / "hls" / Path(request.query["f"]).name)

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mp4", "Content-Length": str(TEN_GB)})
        await response.prepare(request)
        for _ in range(600):
            await response.write(b"\0" * 1024)
            await asyncio.sleep(0.1)
        return response

    async def _slowloris(self, request: web.Request) -> web.StreamResponse:
        data = (self.media / "speech.m4a").read_bytes()
        response = web.StreamResponse(headers={"Content-Type": "audio/mp4", "Content-Length": str(len(data))})
        await response.prepare(request)
        for offset in range(0, len(data), 16):
            await response.write(data[offset : offset + 16])
            await asyncio.sleep(1)
        return response

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop")

    async def start(self) -> BadOrigin:
        app = web.Application()
        app.router.add_get("/truncated.m4a", self._truncated)
        app.router.add_get("/endless/index.m3u8", self._endless_playlist)
        app.router.add_get("/endless/{name}", self._endless_segment)
        app.router.add_get("/huge.m4a", self._huge)
        app.router.add_get("/slowloris.m4a", self._slowloris)
        app.router.add_get("/loop", self._loop)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

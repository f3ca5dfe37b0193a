"""A tiny aiohttp upstream standing in for the API nodes behind nginx: what nginx must carry, nothing more.

It answers like the real API will (X-Accel-Redirect downloads, an SSE stream, a WebSocket, LL-HLS blocking
playlist reloads) and records what reached it, so a test can tell what nginx forwarded.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web


@dataclass
class FakeApi:
    hits: Counter[str] = field(default_factory=Counter)
    # the SSE handlers send their second event only once the test sets this
    release: asyncio.Event = field(default_factory=asyncio.Event)
    second_sent: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/ping", self.ping)
        app.router.add_get("/api/v1/cacheable", self.cacheable)
        app.router.add_get("/api/v1/events", self.events)
        app.router.add_get("/api/v1/unbuffered-stream", self.unbuffered_stream)
        app.router.add_get("/api/v1/debates/{debate_id}/download", self.download)
        app.router.add_get("/hls/{path:.+}", self.blocking_playlist)
        app.router.add_get("/ws", self.websocket)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/health", self.health)
        return app

    async def ping(self, request: web.Request) -> web.Response:
        self.hits["ping"] += 1
        return web.json_response(
            {
                "x_real_ip": request.headers.get("X-Real-IP"),
                "x_forwarded_for": request.headers.get("X-Forwarded-For"),
                "x_forwarded_proto": request.headers.get("X-Forwarded-Proto"),
                "host": request.headers.get("Host"),
            }
        )

    async def cacheable(self, request: web.Request) -> web.Response:
        self.hits["cacheable"] += 1
        return web.json_response(
            {"n": self.hits["cacheable"]}, headers={"Cache-Control": "public, max-age=60"}
        )

    async def _two_events(self, request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})
        await response.prepare(request)
        await response.write(b'id: 1\nevent: job.progress\ndata: {"progress": 0.5}\n\n')
        await asyncio.wait_for(self.release.wait(), timeout=30)
        self.second_sent = True
        await response.write(b'id: 2\nevent: job.succeeded\ndata: {"progress": 1.0}\n\n')
        await response.write_eof()
        return response

    async def events(self, request: web.Request) -> web.StreamResponse:
        # deliberately without X-Accel-Buffering: the nginx location itself must not buffer
        return await self._two_events(request, {"Cache-Control": "no-cache"})

    async def unbuffered_stream(self, request: web.Request) -> web.StreamResponse:
        # an ordinary (buffered) API location: the upstream's X-Accel-Buffering must be honoured
        return await self._two_events(request, {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def download(self, request: web.Request) -> web.Response:
        # what the download handler answers when ROBIAN_BEHIND_NGINX=true: nginx streams the file
        debate_id = request.match_info["debate_id"]
        self.hits["download"] += 1
        return web.Response(
            headers={
                "X-Accel-Redirect": f"/_media/{debate_id}/v1/download.m4a",
                "Content-Disposition": 'attachment; filename="seance.m4a"',
            }
        )

    async def blocking_playlist(self, request: web.Request) -> web.Response:
        if "_HLS_msn" not in request.query and "_HLS_skip" not in request.query:
            raise web.HTTPNotFound()  # the API answers only blocking reloads and delta updates under /hls/
        self.hits["blocking"] += 1
        text = (
            "#EXTM3U\n#EXT-X-VERSION:9\n"
            f"# answered by the API: {request.path} msn={request.query.get('_HLS_msn')} "
            f"part={request.query.get('_HLS_part')} skip={request.query.get('_HLS_skip')}\n"
        )
        # the API's own CORS middleware answers too: nginx must not send a second Allow-Origin
        headers = {"Cache-Control": "max-age=1", "Access-Control-Allow-Origin": "https://app.example"}
        return web.Response(text=text, content_type="application/vnd.apple.mpegurl", headers=headers)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(json.dumps({"echo": message.data}))
        return ws

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(text="robian_up 1\n")

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

""" "The internet" of the ingest tests: an aiohttp server on 127.0.0.1 with scripted behaviours.

- ``/files/{name}``: a media file (``/slow/{name}`` trickles it out slowly);
- ``/redirect?to=URL``: a 302 to anywhere;
- ``/Datas/an/{uid}/content/data.nvs`` and ``finalplayer.nvs``, ``/cr.xml``, ``/opendata/{uid}.xml``: the
  AN portal and open data, from tests/fixtures/an (short timeline; ``data-live.nvs`` for LIVE_PORTAL_UID);
- ``/vod/mp4/ida/domain1/…``: the portal's media;
- ``fail(path, *statuses)``: answer these statuses first, then normally.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

from aiohttp import web

from tests.services import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "an"
PORTAL_UID = "6420_5f1c2a9be03d4"
LIVE_PORTAL_UID = "7001_0a1b2c3d4e5f6"  # its data.nvs is data-live.nvs


class Origin:
    def __init__(self, media: Path) -> None:
        self.media = media
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.requests: list[tuple[str, int]] = []
        self._scripted: dict[str, list[int]] = defaultdict(list)
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def portal_url(self) -> str:
        return self.url(f"/video.{PORTAL_UID}.seance-publique-du-mardi-10-mars-2026")

    @property
    def live_portal_url(self) -> str:
        return self.url(f"/direct.{LIVE_PORTAL_UID}")

    def fail(self, path: str, *statuses: int) -> None:
        self._scripted[path].extend(statuses)

    def statuses(self, path: str) -> list[int]:
        return [status for seen, status in self.requests if seen == path]

    @web.middleware
    async def _script(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        scripted = self._scripted.get(request.path)
        if scripted:
            status = scripted.pop(0)
            self.requests.append((request.path, status))
            return web.Response(status=status, text=f"scripted {status}")
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.requests.append((request.path, exc.status))
            raise
        self.requests.append((request.path, response.status))
        return response

    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = self.media / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        path = self.media / request.match_info["name"]
        data = path.read_bytes()
        response = web.StreamResponse(headers={"Content-Type": "audio/mp4", "Content-Length": str(len(data))})
        await response.prepare(request)
        for offset in range(0, len(data), 4096):
            await response.write(data[offset : offset + 4096])
            await asyncio.sleep(0.2)
        return response

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["to"])

    async def _data_nvs(self, request: web.Request) -> web.StreamResponse:
        name = "data-live.nvs" if request.match_info["uid"] == LIVE_PORTAL_UID else "data.nvs"
        text = (FIXTURES / name).read_text(encoding="utf-8").replace("http://127.0.0.1:8765", self.base)
        return web.Response(text=text, content_type="application/xml")

    async def _timeline(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(FIXTURES / "finalplayer-short.nvs")

    async def _portal_media(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self.media / "sitting.mp3")

    async def _compte_rendu(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(FIXTURES / "compte-rendu-short.xml")

    async def _compte_rendu_words(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(FIXTURES / "compte-rendu-transcript.xml")

    async def _opendata(self, request: web.Request) -> web.StreamResponse:
        uid = request.match_info["uid"]
        kind = "acteur" if uid.startswith("PA") else "organe"
        path = FIXTURES / f"{kind}-{uid}.xml"
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def start(self) -> Origin:
        app = web.Application(middlewares=[self._script])
        app.router.add_get("/files/{name:.+}", self._file)
        app.router.add_get("/slow/{name}", self._slow)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/Datas/an/{uid}/content/data.nvs", self._data_nvs)
        app.router.add_get("/Datas/an/{uid}/content/finalplayer.nvs", self._timeline)
        app.router.add_get("/vod/mp4/ida/domain1/{path:.+}", self._portal_media)
        app.router.add_get("/cr.xml", self._compte_rendu)
        app.router.add_get("/cr-words.xml", self._compte_rendu_words)
        app.router.add_get("/opendata/{uid}.xml", self._opendata)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

"""The listener page: ``/`` and its files under ``/static/``, shipped inside the package.

Only the files found in ``robian_media/static`` when the app starts are served, by exact name:
a request path is looked up, never joined onto a directory, so nothing else can be reached.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from aiohttp import web

from .errors import NotFound

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# vendored libraries live under a versioned directory: a new version is a new URL
VENDOR_CACHE_CONTROL = "public, max-age=31536000, immutable"
# the page's own files change with each release of the server: revalidate (ETag/Last-Modified) soon
OWN_CACHE_CONTROL = "public, max-age=300"
INDEX_CACHE_CONTROL = "no-cache"


def static_files(root: Path = STATIC_ROOT) -> dict[str, Path]:
    """Relative name → file, for every servable file under ``root`` (not the index itself)."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in CONTENT_TYPES and path.name != "index.html"
    }


class ListenerPage:
    def __init__(self, root: Path = STATIC_ROOT) -> None:
        self.index_path = root / "index.html"
        self.files = static_files(root)

    async def index(self, request: web.Request) -> web.StreamResponse:
        headers = {"Cache-Control": INDEX_CACHE_CONTROL, "Vary": "Accept"}
        if wants_json(request):
            return web.json_response(service_description(), headers=headers)
        return web.FileResponse(self.index_path, headers={**headers, "Content-Type": CONTENT_TYPES[".html"]})

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["path"]
        path = self.files.get(name)
        if path is None:
            raise NotFound("No such file of the listener page.")
        cache = VENDOR_CACHE_CONTROL if name.startswith("vendor/") else OWN_CACHE_CONTROL
        return web.FileResponse(
            path, headers={"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": cache}
        )


def wants_json(request: web.Request) -> bool:
    """A script or an old client asking for JSON (browsers always list text/html)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def service_description() -> dict[str, object]:
    """``GET /`` for JSON clients: what this is and where to go; the old backend's keys are kept."""
    current = version("robian-media")
    return {
        "name": "robian-media",
        "version": current,
        "status": "ok",
        "links": {"docs": "/api/docs", "api": "/api/v1", "health": "/health"},
        # the RobianAPI backend's answer to `/`: success, message, data
        "success": True,
        "message": "robian-media opérationnel",
        "data": {"version": current, "endpoints": ["/api/debats", "/api/programme", "/api/extraction"]},
    }

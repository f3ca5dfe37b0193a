"""``/hls/…`` answered from the media root when no nginx is in front, with nginx's headers; behind nginx,
only the live parts nginx does not find yet (held by the hook ``keys.WAIT_FOR_MEDIA`` the live
feature fills)."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from aiohttp.web_response import ContentCoding

from ..web import keys
from ..web.client_address import client_key
from ..web.errors import NotFound
from .store import safe_key

MIME_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "audio/mp4",
    ".m4a": "audio/mp4",
    ".ts": "video/mp2t",
    ".vtt": "text/vtt",
    ".json": "application/json",
}
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=2"
# {debate}/v{n}/… is immutable once published; the top master and growing playlists are not
VERSIONED = re.compile(r"^(?P<version>[^/]+/v\d+)/")
# written by the packager's last step: from then on the version's playlists no longer change
COMPLETE_MARKER = ".complete"

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, Origin, Accept",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges",
    "Access-Control-Max-Age": "86400",
}

# what nginx gzips (nginx/nginx.conf.in gzip_types): text, never segments
COMPRESSED_TYPES = frozenset(
    {MIME_TYPES[".m3u8"], MIME_TYPES[".json"], MIME_TYPES[".vtt"], "application/problem+json"}
)


def hls_answer_headers(response: web.StreamResponse) -> None:
    """``on_response_prepare`` for ``/hls/``: CORS on every answer, errors included (nginx's ``always``),
    so that a browser player sees a 404 or a 400 instead of a network error."""
    for name, value in CORS.items():
        response.headers.setdefault(name, value)


def gzip_text(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Playlists, JSON and WebVTT gzipped as nginx does (``gzip_types``, ``gzip_vary``); never segments."""
    if response.headers.get("Content-Type") in COMPRESSED_TYPES:
        response.headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("Accept-Encoding", "").lower() and "Range" not in request.headers:
            response.enable_compression(ContentCoding.gzip)
    return response


def resolve_media_path(root: Path, relative: str) -> Path:
    """The file under ``root`` named by ``relative``; refuses dotfiles, ``..`` and symlinks.

    Like nginx's ``disable_symlinks on from=<media root>``: nothing below the root may be a symlink,
    so no path can lead outside it.
    """
    if not safe_key(relative):
        raise NotFound("No media at this path.")
    candidate = root.resolve() / relative
    if candidate.resolve() != candidate or not candidate.is_file():
        raise NotFound("No media at this path.")
    return candidate


def cache_control(relative: str, root: Path) -> str:
    versioned = VERSIONED.match(relative)
    if versioned is None:
        return SHORT
    if relative.endswith(".m3u8") and not (root / versioned["version"] / COMPLETE_MARKER).is_file():
        return SHORT  # a version still being packaged: its playlists grow
    return IMMUTABLE


async def serve_media(request: web.Request) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS)
    relative = request.match_info["path"]
    if not safe_key(relative):
        raise NotFound("No media at this path.")
    store = request.app[keys.MEDIA_STORE]
    root = request.app[keys.SETTINGS].media_root
    # a live part asked for before it is written (the preload hint): held until it is
    wait_for_media = request.app.get(keys.WAIT_FOR_MEDIA)
    if not store.serves_packager_files:
        # a remote store (s3) answers from its bucket
        try:
            remote = await store.respond(request, relative, {})
        except NotFound:
            if wait_for_media is None:
                raise
            await wait_for_media(root, relative, client_key(request))
            remote = await store.respond(request, relative, {})
        if remote is not None:
            return remote
    try:
        path = resolve_media_path(root, relative)
    except NotFound:
        if wait_for_media is None:
            raise
        await wait_for_media(root, relative, client_key(request))
        path = resolve_media_path(root, relative)
    headers = {**CORS, "Cache-Control": cache_control(relative, root)}
    content_type = MIME_TYPES.get(path.suffix)
    if content_type is None:
        raise NotFound("No media at this path.")
    headers["Content-Type"] = content_type
    return gzip_text(request, web.FileResponse(path, headers=headers))

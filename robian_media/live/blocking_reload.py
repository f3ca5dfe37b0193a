"""LL-HLS playlist requests the API answers: blocking reloads (``_HLS_msn``/``_HLS_part``) and delta
updates (``_HLS_skip``), with or without nginx in front (nginx sends exactly these to the API).

A blocking reload is held until the playlist lists the requested part (or the whole segment when
no part is given); a request further than two segments ahead of the last one is refused at once,
one the playlist does not reach within three target durations gets a 503 (RFC 8216bis §6.2.5.2).
Every answer comes from the playlist's current parsed version (``playlist_watch``); waiting requests
are capped per process and per client (``RELOAD_SLOTS``).
"""

from __future__ import annotations

from aiohttp import web

from ..media.serving import CORS, MIME_TYPES, SHORT, gzip_text, serve_media
from ..web import keys
from ..web.client_address import client_key
from ..web.errors import BadRequest, NotFound, ServiceUnavailable
from .keys import PLAYLIST_WATCH, RELOAD_SLOTS

DIRECTIVES = ("_HLS_msn", "_HLS_part", "_HLS_skip")


def _number(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 12:
        raise BadRequest(f"{name} must be a non-negative integer, got {value[:20]!r}.")
    return int(value)


def is_live_request(request: web.Request) -> bool:
    return request.match_info["path"].endswith(".m3u8") and any(d in request.query for d in DIRECTIVES)


async def serve_playlist(request: web.Request) -> web.StreamResponse:
    """``/hls/….m3u8``: with LL-HLS directives here; otherwise the file as ``/hls/`` serves it."""
    if request.method != "GET" or not is_live_request(request):
        if request.app[keys.SETTINGS].behind_nginx:
            raise NotFound("No media at this path.")  # nginx serves media files itself
        return await serve_media(request)
    msn = _number(request, "_HLS_msn")
    part = _number(request, "_HLS_part")
    skip = request.query.get("_HLS_skip")
    if part is not None and msn is None:
        raise BadRequest("_HLS_part needs _HLS_msn.")
    if skip not in (None, "YES", "v2"):
        raise BadRequest("_HLS_skip must be YES or v2.")
    watch = request.app[PLAYLIST_WATCH]
    path = watch.locate(request.app[keys.SETTINGS].media_root, request.match_info["path"])
    try:
        snapshot = await watch.snapshot(path)
    except FileNotFoundError:
        raise NotFound("No media at this path.") from None
    position = snapshot.position
    if msn is not None and position.skip_until is not None and not position.has(msn, part):
        if msn > position.next_msn + 1:
            raise BadRequest(
                f"_HLS_msn={msn} is more than two segments past the last one ({position.next_msn - 1})."
            )
        timeout = 3 * max(position.target, 1.0)
        with request.app[RELOAD_SLOTS].hold(client_key(request)):
            found = await watch.wait_for(path, lambda now: now.position.has(msn, part), timeout)
        if found is None:
            raise ServiceUnavailable(
                f"Segment {msn} part {part} did not appear within {timeout:.0f} s (the stream stalled?).",
                headers={"Retry-After": "1"},
            )
        snapshot = found
    body = snapshot.body if skip is None else await snapshot.delta()
    headers = {**CORS, "Cache-Control": SHORT, "Content-Type": MIME_TYPES[".m3u8"]}
    return gzip_text(request, web.Response(body=body, headers=headers))

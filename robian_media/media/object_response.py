"""An object of a remote media store sent to a client as nginx would send a file: byte ranges
(206/416), ETag and If-None-Match (304), HEAD, CORS; the body streamed, never held whole in memory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import obstore
from aiohttp import web
from obstore.exceptions import BaseError, NotFoundError, NotModifiedError

from ..web.errors import NotFound, ServiceUnavailable
from .serving import CORS

if TYPE_CHECKING:
    from obstore import OffsetRange, SuffixRange

log = logging.getLogger(__name__)

STREAM_CHUNK = 256 << 10


class ObjectSource(Protocol):
    async def get(self, key: str, options: dict[str, Any]) -> obstore.GetResult: ...

    async def head(self, key: str) -> obstore.ObjectMeta: ...


def byte_range(request: web.Request) -> tuple[int, int] | OffsetRange | SuffixRange | None:
    """The request's single byte range in obstore's terms (a malformed one is ignored, RFC 9110)."""
    try:
        wanted = request.http_range
    except ValueError:
        return None
    start, stop = wanted.start, wanted.stop
    if start is None:
        return None
    if start < 0:
        return {"suffix": -start}
    if stop is None:
        return {"offset": start}
    return (start, stop)


def stored_cache_control(result: obstore.GetResult) -> dict[str, str]:
    """The Cache-Control the object was put with: a version's playlists are short-cached while it is
    packaged (progressive playback), immutable once published."""
    value = result.attributes.get("Cache-Control")
    return {"Cache-Control": value} if isinstance(value, str) and value else {}


async def stream_object(
    source: ObjectSource, request: web.Request, key: str, headers: Mapping[str, str]
) -> web.StreamResponse:
    out = {**CORS, **headers, "Accept-Ranges": "bytes"}
    try:
        if request.method == "HEAD":
            found = await source.get(key, {"head": True})
            meta = found.meta
            out.update({"Content-Length": str(meta["size"]), "ETag": meta["e_tag"] or ""})
            out.update(stored_cache_control(found))
            return web.Response(headers=out)
        options: dict[str, Any] = {}
        wanted = byte_range(request)
        if wanted is not None:
            options["range"] = wanted
        if request.headers.get("If-None-Match"):
            options["if_none_match"] = request.headers["If-None-Match"]
        try:
            result = await source.get(key, options)
        except NotModifiedError:
            out.update(stored_cache_control(await source.get(key, {"head": True})))
            return web.Response(status=304, headers={k: out[k] for k in ("Cache-Control", *CORS)})
        except BaseError as exc:
            if wanted is None or isinstance(exc, NotFoundError):
                raise
            # a range past the end: what nginx answers
            size = (await source.head(key))["size"]
            return web.Response(status=416, headers={**CORS, "Content-Range": f"bytes */{size}"})
    except (FileNotFoundError, NotFoundError):  # obstore raises the former
        raise NotFound("No media at this path.") from None
    except (BaseError, OSError):
        # what went wrong is in the server's log; never the store's address or keys in the answer
        log.warning("media store unavailable", extra={"key": key}, exc_info=True)
        raise ServiceUnavailable("The media store does not answer; try again shortly.") from None
    meta = result.meta
    out.update(stored_cache_control(result))
    start, stop = result.range
    if meta["e_tag"]:
        out["ETag"] = meta["e_tag"]
    out["Last-Modified"] = meta["last_modified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
    out["Content-Length"] = str(stop - start)
    response = web.StreamResponse(status=206 if wanted is not None else 200, headers=out)
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{meta['size']}"
    await response.prepare(request)
    async for chunk in result.stream(min_chunk_size=STREAM_CHUNK):
        await response.write(bytes(chunk))
    await response.write_eof()
    return response

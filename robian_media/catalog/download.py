"""``/api/v1/debates/{debate_id}/download``: the whole sitting as one ``.m4a``, with byte ranges.

Behind nginx the answer is an empty 200 whose ``X-Accel-Redirect`` makes nginx send the file from
its internal ``/_media/`` location (the media root, or the s3 store's bucket); otherwise aiohttp sends
it itself (``send_media``, clips' too).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import quote
from uuid import UUID

from aiohttp import web

from ..media.urls import download_file
from ..web import keys
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.path_params import uuid_param
from . import debate_queries as db
from .debates import not_packaged

DOWNLOAD_CACHE_CONTROL = "public, max-age=300"
ACCEL_PREFIX = "/_media/"
MAX_TITLE_CHARS = 80


def download_filename(title: str, starts_at: dt.datetime | None) -> str:
    day = f"{starts_at.date().isoformat()} " if starts_at else ""
    name = " ".join(f"{day}{title}".split())[:MAX_TITLE_CHARS].strip()
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "-", name) + ".m4a"


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, and the exact UTF-8 name (RFC 8187)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["\\]', "", ascii_name) or "debate.m4a"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def load_target(request: web.Request, debate_id: UUID) -> tuple[db.DownloadTarget, int]:
    async with request.app[keys.READ_POOL].acquire() as conn:
        target = await db.get_download(conn, debate_id)
        if target is None:
            raise NotFound("No debate with this id.")
        if target.current_version is None:
            raise not_packaged(target.status, await db.latest_job(conn, debate_id))
    if target.rendition_status != "published":
        # a version being packaged (or a live sitting) streams already; its file comes at the end
        raise NotFound("The download of this debate is ready once packaging finishes; stream it meanwhile.")
    return target, target.current_version


async def serve_download(request: web.Request, debate_id: UUID) -> web.StreamResponse:
    target, version = await load_target(request, debate_id)
    headers = {
        "Content-Type": "audio/mp4",
        "Content-Disposition": content_disposition(download_filename(target.title, target.starts_at)),
        "Cache-Control": DOWNLOAD_CACHE_CONTROL,
    }
    missing = "The download file of this debate is missing on this server."
    return await send_media(request, download_file(debate_id, version), headers, missing)


async def send_media(
    request: web.Request, relative: str, headers: Mapping[str, str], missing: str
) -> web.StreamResponse:
    """A file of the layout (a download, a clip) with ``headers``, byte ranges and ETag: behind nginx an
    empty answer whose ``X-Accel-Redirect`` makes nginx send it (nginx keeps Content-Type and
    Content-Disposition; `robian-media nginx-conf` aliases the media root or proxies the s3 store's
    bucket); otherwise streamed from the store, or sent from the media root (``missing``: the 404's
    detail)."""
    settings = request.app[keys.SETTINGS]
    if settings.behind_nginx:
        return web.Response(headers={**headers, "X-Accel-Redirect": ACCEL_PREFIX + relative})
    remote = await request.app[keys.MEDIA_STORE].respond(request, relative, headers)
    if remote is not None:
        return remote
    path = settings.media_root / relative
    if not path.is_file():
        raise NotFound(missing)
    return web.FileResponse(path, headers=headers)


@operation(
    summary="The whole sitting as one .m4a with MP4 chapters (Range requests supported)",
    tags=["debates"],
    produces=["audio/mp4"],
    responses={404: "No such debate, or its download is not ready yet", 416: "Range not satisfiable"},
)
async def download(request: web.Request) -> web.StreamResponse:
    return await serve_download(request, uuid_param(request, "debate_id", "debate"))

"""Routes of the existing mobile client, in the shapes of its RobianAPI (AN-droid) backend.

That backend (FastAPI, ``api/main.py`` of github.com/Guiraud/RobianAPI) answered ``/api/debats``
with a bare list of ``DebatInfo`` (French field names), ``/api/debats/{debate_id}/stream`` with
``{"stream_url","status","file_size"|"message"}`` where ``stream_url`` is the relative ``/file`` path,
and ``/api/programme?date_param=`` with a list of ``ProgrammeSeance``. The same data as ``/api/v1``,
reshaped; errors are problem+json, whose ``detail`` is where FastAPI put its message.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from ..cache.invalidation import DEBATES, METADATA, STREAMING, legacy_stream_key
from ..cache.responses import cached_response
from ..catalog import debate_queries as debates_db
from ..catalog import programme_queries as programme_db
from ..catalog.debate_queries import LISTED_STATUSES, SITTING_TIMEZONE
from ..catalog.debates import (
    DETAIL_CACHE_CONTROL,
    LIST_CACHE_CONTROL,
    STREAM_CACHE_CONTROL,
)
from ..catalog.download import serve_download
from ..catalog.models import ProgrammeItem
from ..catalog.programme import PROGRAMME_CACHE_CONTROL, today_in_paris
from ..catalog.text_search import fold
from ..media.urls import MediaUrls, download_file, legacy_file, media_urls
from ..web import keys
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.path_params import uuid_param
from ..web.query_params import QueryModel
from ..web.text_formats import IsoDate
from . import queries as db

LegacyType = Literal["seance_publique", "commission", "audition", "autre"]
LEGACY_STATUS = {
    "published": "disponible",
    "live": "en_cours",
    "processing": "extraction",
    "pending": "extraction",
    "failed": "erreur",
    "cancelled": "erreur",
}
MAX_LIMIT = 100
LEGACY_NOTE = (
    "Kept for the existing mobile client: the shapes of its RobianAPI (AN-droid) FastAPI backend "
    "(github.com/Guiraud/RobianAPI, api/main.py), with the data of /api/v1. Errors are problem+json; "
    "their `detail` is where FastAPI put its message. New clients use /api/v1."
)
EXTRACTING = "Extraction en cours, réessayez dans quelques minutes"
# the keys of the old backend's two stream answers (and hls_url, ours)
READY_KEYS = {"stream_url", "status", "file_size", "hls_url"}
EXTRACTING_KEYS = {"stream_url", "status", "message", "hls_url"}


class DebatInfo(BaseModel):
    id: str
    title: str
    date: dt.date
    duration: int | None = Field(None, description="seconds")
    type: LegacyType
    commission: str | None
    url_source: str
    url_stream: str | None = Field(None, description="HLS master playlist")
    thumbnail: str | None
    description: str | None
    intervenants: list[str]
    status: Literal["disponible", "en_cours", "programme", "extraction", "erreur"]


class LegacyStream(BaseModel):
    stream_url: str | None = Field(None, description="relative: /api/debats/{debate_id}/file")
    status: Literal["ready", "extracting"]
    file_size: int | None = None
    message: str | None = None
    hls_url: str | None = Field(None, description="added: the HLS master, for players that can use it")


class ProgrammeSeance(BaseModel):
    date: dt.date
    heure: str = Field(description="HH:MM in Paris, empty when unknown")
    titre: str
    type: Literal["seance_publique", "commission"]
    commission: str | None
    salle: str | None
    url: str | None = Field(None, description="HLS master of the sitting once packaged")


DEBATS_JSON = TypeAdapter(list[DebatInfo])
PROGRAMME_JSON = TypeAdapter(list[ProgrammeSeance])


class LegacyDebatsQuery(QueryModel):
    date_debut: IsoDate | None = None
    date_fin: IsoDate | None = None
    type_debat: LegacyType | None = None
    commission: str | None = Field(None, max_length=200)
    # the old backend had no upper bound: larger values are served as MAX_LIMIT, not refused
    limit: int = Field(50, ge=1)


class LegacyProgrammeQuery(QueryModel):
    date_param: IsoDate | None = Field(None, description="YYYY-MM-DD, default today (Paris)")


def debat_info(row: db.LegacyDebateRow, urls: MediaUrls) -> DebatInfo:
    return DebatInfo(
        id=str(row.id),
        title=row.title,
        date=row.day,
        duration=round(row.duration) if row.duration is not None else None,
        type=row.type,  # the SQL CASE yields exactly these
        commission=row.body if row.type in ("commission", "audition") else None,
        url_source=row.source_url,  # only a local file's name (migration 0009)
        url_stream=urls.master(row.id) if row.current_version is not None else None,
        thumbnail=None,
        description=row.description or row.title,
        intervenants=row.speakers,
        status=LEGACY_STATUS[row.status],
    )


@operation(
    summary="Legacy (RobianAPI): list of débats, newest first",
    tags=["legacy"],
    description=LEGACY_NOTE,
    query=LegacyDebatsQuery,
    response=list[DebatInfo],
)
async def list_debats(request: web.Request, *, query: LegacyDebatsQuery) -> web.Response:
    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            rows = await db.list_debates(
                conn,
                statuses=LISTED_STATUSES,
                date_from=query.date_debut,
                date_to=query.date_fin,
                kind=query.type_debat,
                commission=query.commission,
                limit=min(query.limit, MAX_LIMIT),
            )
        urls = media_urls(request)
        return DEBATS_JSON.dump_json([debat_info(row, urls) for row in rows])

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(
        DEBATES, "legacy-list:" + query.cache_key, build
    )
    return cached_response(request, cached, LIST_CACHE_CONTROL)


@operation(
    summary="Legacy (RobianAPI): one débat", tags=["legacy"], description=LEGACY_NOTE, response=DebatInfo
)
async def get_debat(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            row = await db.get_debate(conn, debate_id)
        if row is None:
            raise NotFound("No debate with this id.")
        return debat_info(row, media_urls(request)).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, f"legacy-detail:{debate_id}", build)
    return cached_response(request, cached, DETAIL_CACHE_CONTROL)


@operation(
    summary="Legacy (RobianAPI): stream state; stream_url is the /file download once ready",
    tags=["legacy"],
    description=LEGACY_NOTE,
    response=LegacyStream,
)
async def get_debat_stream(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            target = await debates_db.get_download(conn, debate_id)
        if target is None:
            raise NotFound("No debate with this id.")
        hls = media_urls(request).master(debate_id) if target.current_version is not None else None
        if target.current_version is not None and target.rendition_status == "published":
            download = download_file(debate_id, target.current_version)
            size = await request.app[keys.MEDIA_STORE].size(download)
            stream = LegacyStream(
                stream_url=legacy_file(debate_id), status="ready", file_size=size, hls_url=hls
            )
            shape = READY_KEYS
        elif target.status in ("failed", "cancelled"):
            raise NotFound("No audio for this debate: its extraction did not succeed.")
        else:
            stream = LegacyStream(status="extracting", message=EXTRACTING, hls_url=hls)
            shape = EXTRACTING_KEYS
        # every key of the old answer, null included (strict client parsers want them), plus hls_url
        return stream.model_dump_json(include=shape).encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(
        STREAMING, legacy_stream_key(debate_id), build
    )
    return cached_response(request, cached, STREAM_CACHE_CONTROL)


@operation(
    summary="Legacy (RobianAPI): the audio file (same as /api/v1/debates/{debate_id}/download)",
    tags=["legacy"],
    description=LEGACY_NOTE,
    produces=["audio/mp4"],
)
async def get_debat_file(request: web.Request) -> web.StreamResponse:
    return await serve_download(request, uuid_param(request, "debate_id", "debate"))


def seance(item: ProgrammeItem) -> ProgrammeSeance:
    paris = ZoneInfo(SITTING_TIMEZONE)
    public = item.body is None or "seance publique" in fold(item.body)
    return ProgrammeSeance(
        date=item.day,
        heure=item.starts_at.astimezone(paris).strftime("%H:%M") if item.starts_at else "",
        titre=item.title,
        type="seance_publique" if public else "commission",
        commission=None if public else item.body,
        salle=item.location,
        url=item.master_url,
    )


@operation(
    summary="Legacy (RobianAPI): the programme of a day",
    tags=["legacy"],
    description=LEGACY_NOTE,
    query=LegacyProgrammeQuery,
    response=list[ProgrammeSeance],
)
async def get_programme(request: web.Request, *, query: LegacyProgrammeQuery) -> web.Response:
    day = query.date_param or today_in_paris()

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            items = await programme_db.list_day(conn, day, media_urls(request))
        return PROGRAMME_JSON.dump_json([seance(item) for item in items])

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(METADATA, f"legacy-programme:{day}", build)
    return cached_response(request, cached, PROGRAMME_CACHE_CONTROL)

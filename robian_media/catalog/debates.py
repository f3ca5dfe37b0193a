"""``/api/v1/debates``: list, detail, chapters, stream info."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from uuid import UUID

from aiohttp import web
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationInfo, field_validator

from ..cache.invalidation import DEBATES, STREAMING, stream_key
from ..cache.responses import cached_response
from ..media.urls import media_urls
from ..web import keys
from ..web.cursor import CURSOR_SCHEMA, cursor_parser, encode_cursor, optional_time, uuid_part
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.path_params import uuid_param
from ..web.query_params import QueryModel, split_commas
from ..web.text_formats import IsoDate
from . import debate_queries as db
from .models import Chapter, DebateDetail, DebatePage, DebateStatus, Stream

LIST_CACHE_CONTROL = "public, max-age=30"
DETAIL_CACHE_CONTROL = "public, max-age=30"
STREAM_CACHE_CONTROL = "public, max-age=60"

CHAPTERS_JSON = TypeAdapter(list[Chapter])

DebateCursor = Annotated[
    db.DebateKey,
    BeforeValidator(cursor_parser(2, lambda p: db.DebateKey(optional_time(p[0]), uuid_part(p[1])))),
    CURSOR_SCHEMA,
]


class DebateListQuery(QueryModel):
    date_from: IsoDate | None = Field(None, description="sittings from this day (Paris), YYYY-MM-DD")
    date_to: IsoDate | None = Field(None, description="sittings up to this day included (Paris)")
    chamber: str | None = Field(None, max_length=64, description="e.g. AN")
    body: str | None = Field(None, max_length=200, description="séance publique, a commission… (any case)")
    speaker_id: str | None = Field(None, max_length=64, description="debates where this speaker spoke")
    status: Annotated[list[DebateStatus], BeforeValidator(split_commas)] | None = Field(
        None, min_length=1, description="comma-separated; default published,live,processing"
    )
    q: str | None = Field(None, max_length=200, description="French full text over titles and chapters")
    limit: int = Field(20, ge=1, le=100)
    cursor: DebateCursor | None = None

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value is not None and date_from is not None and value < date_from:
            raise ValueError("date_to is before date_from")
        return value

    def filters(self) -> db.DebateFilters:
        return db.DebateFilters(
            chamber=self.chamber,
            body=self.body,
            date_from=self.date_from,
            date_to=self.date_to,
            statuses=tuple(self.status) if self.status else db.LISTED_STATUSES,
            speaker_id=self.speaker_id,
            q=self.q,
        )


def cursor_after(last: db.DebateKey | None, more: bool) -> str | None:
    if not more or last is None:
        return None
    return encode_cursor(last.starts_at.isoformat() if last.starts_at else None, str(last.id))


async def debate_page_json(request: web.Request, query: DebateListQuery) -> bytes:
    """A DebatePage's JSON: the items as PostgreSQL wrote them, wrapped without parsing them."""
    async with request.app[keys.READ_POOL].acquire() as conn:
        page = await db.list_debates_json(
            conn, query.filters(), limit=query.limit, after=query.cursor, urls=media_urls(request)
        )
    next_cursor = json.dumps(cursor_after(page.last, page.more)).encode()
    return b'{"items":' + page.items + b',"next_cursor":' + next_cursor + b"}"


@operation(
    summary="List debates, newest first (keyset pagination: pass next_cursor back as cursor)",
    tags=["debates"],
    query=DebateListQuery,
    response=DebatePage,
    description=(
        "Newest sitting first, sittings of unknown start last. Without `status`, only what can be "
        "listened to: published, live and processing (progressive playback). `next_cursor` is an "
        "opaque keyset position: pages never repeat or skip a debate, even while debates are added."
    ),
)
async def list_debates(request: web.Request, *, query: DebateListQuery) -> web.Response:
    async def build() -> bytes:
        return await debate_page_json(request, query)

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, "list:" + query.cache_key, build)
    return cached_response(request, cached, LIST_CACHE_CONTROL)


def not_packaged(debate_status: str, job: db.JobHint | None) -> NotFound:
    """404 for a debate without a published version, saying what is happening to it."""
    if job is None:
        hint = "no packaging job has been started for it"
    elif job.status in ("queued", "running"):
        stage = f", {job.stage}" if job.stage else ""
        hint = f"job {job.id} is {job.status}{stage}, {round(job.progress * 100)} % done; retry shortly"
    elif job.status == "failed":
        hint = f"job {job.id} failed: {job.error_category or 'no reason recorded'}"
    else:
        hint = f"its last job {job.id} is {job.status}"
    what = (
        "This live sitting has not started streaming yet"
        if debate_status == "live"
        else ("This debate is not packaged yet")
    )
    return NotFound(f"{what}: {hint}.")


async def load_stream(request: web.Request, debate_id: UUID) -> Stream:
    async with request.app[keys.READ_POOL].acquire() as conn:
        state = await db.get_stream(conn, debate_id, media_urls(request))
        if state is None:
            raise NotFound("No debate with this id.")
        if state.stream is None:
            raise not_packaged(state.status, await db.latest_job(conn, debate_id))
    return state.stream


@operation(summary="A debate with its chapters and stream", tags=["debates"], response=DebateDetail)
async def get_debate(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        urls = media_urls(request)
        async with request.app[keys.READ_POOL].acquire() as conn:
            debate = await db.get_debate(conn, debate_id, urls)
            if debate is None:
                raise NotFound("No debate with this id.")
            chapters = await db.list_chapters(conn, debate_id)
            state = await db.get_stream(conn, debate_id, urls)
        stream = state.stream if state else None
        detail = DebateDetail(**debate.model_dump(), chapters=chapters, stream=stream)
        return detail.model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, f"detail:{debate_id}", build)
    return cached_response(request, cached, DETAIL_CACHE_CONTROL)


@operation(summary="Chapters of a debate (one per intervention)", tags=["debates"], response=list[Chapter])
async def get_chapters(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            chapters = await db.list_chapters(conn, debate_id)
            if not chapters and not await db.debate_exists(conn, debate_id):
                raise NotFound("No debate with this id.")
        return CHAPTERS_JSON.dump_json(chapters)

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, f"chapters:{debate_id}", build)
    return cached_response(request, cached, DETAIL_CACHE_CONTROL)


@operation(
    summary="Where to play a debate: HLS master, variants, chapters, download",
    tags=["debates"],
    response=Stream,
    responses={404: "No such debate, or not packaged yet (the detail says what its job is doing)"},
    description=(
        "A debate without a published version yet answers 404 problem+json whose `detail` says what "
        "its packaging job is doing (queued or running with stage and progress, or why it failed); "
        "`GET /api/v1/debates/{debate_id}` shows it with `stream: null`. During packaging the stream exists "
        "(progressive playlists) and `live` is true for a live sitting."
    ),
)
async def get_stream(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        return (await load_stream(request, debate_id)).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(STREAMING, stream_key(debate_id), build)
    return cached_response(request, cached, STREAM_CACHE_CONTROL)

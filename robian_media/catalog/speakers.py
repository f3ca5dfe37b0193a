"""``/api/v1/speakers``: deputies and where they spoke."""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import BeforeValidator, Field

from ..cache.invalidation import METADATA
from ..cache.responses import cached_response
from ..media.urls import media_urls
from ..web import keys
from ..web.cursor import CURSOR_SCHEMA, cursor_parser, encode_cursor, optional_time, uuid_part
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.query_params import QueryModel
from . import speaker_queries as db
from .models import InterventionPage, Speaker, SpeakerPage
from .text_search import all_prefixes_tsquery

SPEAKERS_CACHE_CONTROL = "public, max-age=3600"
INTERVENTIONS_CACHE_CONTROL = "public, max-age=300"
SPEAKER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

SpeakerCursor = Annotated[
    db.SpeakerKey,
    BeforeValidator(cursor_parser(2, lambda p: db.SpeakerKey(str(p[0]), str(p[1])))),
    CURSOR_SCHEMA,
]
InterventionCursor = Annotated[
    db.InterventionKey,
    BeforeValidator(
        cursor_parser(3, lambda p: db.InterventionKey(optional_time(p[0]), uuid_part(p[1]), int(p[2])))
    ),
    CURSOR_SCHEMA,
]


class SpeakerListQuery(QueryModel):
    group: str | None = Field(
        None, max_length=200, description="political group: id (PO…), abbreviation or name"
    )
    q: str | None = Field(None, max_length=200, description="words of the name, each as a prefix")
    limit: int = Field(50, ge=1, le=100)
    cursor: SpeakerCursor | None = None


class InterventionQuery(QueryModel):
    limit: int = Field(50, ge=1, le=100)
    cursor: InterventionCursor | None = None


def speaker_id_param(request: web.Request) -> str:
    speaker_id = request.match_info["speaker_id"]
    if not SPEAKER_ID.match(speaker_id):
        raise NotFound("No speaker with this id.")
    return speaker_id


@operation(
    summary="Speakers in name order, filtered by group or name",
    tags=["speakers"],
    query=SpeakerListQuery,
    response=SpeakerPage,
)
async def list_speakers(request: web.Request, *, query: SpeakerListQuery) -> web.Response:
    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            items, last = await db.list_speakers(
                conn,
                group=query.group,
                name_query=all_prefixes_tsquery(query.q) if query.q else None,
                limit=query.limit,
                after=query.cursor,
            )
        next_cursor = encode_cursor(last.name_key, last.id) if last else None
        return SpeakerPage(items=items, next_cursor=next_cursor).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(
        METADATA, "speakers:" + query.cache_key, build
    )
    return cached_response(request, cached, SPEAKERS_CACHE_CONTROL)


@operation(summary="A speaker", tags=["speakers"], response=Speaker)
async def get_speaker(request: web.Request) -> web.Response:
    speaker_id = speaker_id_param(request)

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            speaker = await db.get_speaker(conn, speaker_id)
        if speaker is None:
            raise NotFound("No speaker with this id.")
        return speaker.model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(METADATA, f"speaker:{speaker_id}", build)
    return cached_response(request, cached, SPEAKERS_CACHE_CONTROL)


@operation(
    summary="Where a speaker spoke, newest sitting first: play master_url from start",
    tags=["speakers"],
    query=InterventionQuery,
    response=InterventionPage,
)
async def list_interventions(request: web.Request, *, query: InterventionQuery) -> web.Response:
    speaker_id = speaker_id_param(request)

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            if await db.get_speaker(conn, speaker_id) is None:
                raise NotFound("No speaker with this id.")
            items, last = await db.list_interventions(
                conn, speaker_id, limit=query.limit, after=query.cursor, urls=media_urls(request)
            )
        next_cursor = None
        if last is not None:
            starts = last.debate_starts_at.isoformat() if last.debate_starts_at else None
            next_cursor = encode_cursor(starts, str(last.debate_id), last.chapter_index)
        return InterventionPage(items=items, next_cursor=next_cursor).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(
        METADATA, f"interventions:{speaker_id}:{query.cache_key}", build
    )
    return cached_response(request, cached, INTERVENTIONS_CACHE_CONTROL)

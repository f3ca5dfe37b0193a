"""``/api/v1/programme``: the agenda of a day, linked to the debates once they exist."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field

from ..cache.invalidation import METADATA
from ..cache.responses import cached_response
from ..media.urls import media_urls
from ..web import keys
from ..web.openapi import operation
from ..web.query_params import QueryModel
from ..web.text_formats import IsoDate
from . import programme_queries as db
from .debate_queries import SITTING_TIMEZONE
from .models import Programme

PROGRAMME_CACHE_CONTROL = "public, max-age=300"


class ProgrammeQuery(QueryModel):
    date: IsoDate | None = Field(None, description="YYYY-MM-DD; default today in Paris")


def today_in_paris() -> dt.date:
    return dt.datetime.now(ZoneInfo(SITTING_TIMEZONE)).date()


@operation(
    summary="Agenda items of a day, with their debate when packaged",
    tags=["programme"],
    query=ProgrammeQuery,
    response=Programme,
)
async def get_programme(request: web.Request, *, query: ProgrammeQuery) -> web.Response:
    day = query.date or today_in_paris()

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            items = await db.list_day(conn, day, media_urls(request))
        return Programme(date=day, items=items).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(METADATA, f"programme:{day}", build)
    return cached_response(request, cached, PROGRAMME_CACHE_CONTROL)

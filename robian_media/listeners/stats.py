"""Public listening stats, built from rollups and cached for ``cache_ttl_stats`` seconds.

Definitions: a play is the first progress write of an account for a debate in a UTC day;
listening time is how far stored positions moved forward (capped by the time between writes);
listeners now are accounts with a progress write in the last ``listeners_now_window_seconds`` seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, Field

from ..cache.responses import cached_response
from ..catalog.models import Debate, UtcDatetime
from ..media.urls import media_urls
from ..web import keys
from ..web.openapi import operation
from ..web.query_params import QueryModel
from ..web.seconds import Seconds
from .listed_debates import debates_by_id
from .stats_queries import TrendingRank, TrendingWindow, global_counts, trending

NAMESPACE = "stats"


class GlobalStats(BaseModel):
    debates: int = Field(description="published debates")
    hours_packaged: float = Field(description="total duration of the published debates, hours")
    speakers: int
    listeners_now: int = Field(description="accounts with a progress write within listeners_window_s")
    listeners_window_s: int
    plays_today: int = Field(description="plays since 00:00 UTC")
    generated_at: UtcDatetime


class TrendingQuery(QueryModel):
    window: TrendingWindow = "24h"
    rank_by: TrendingRank = Field("plays", description="plays, or listening time")
    limit: int = Field(20, ge=1, le=100)


class TrendingItem(BaseModel):
    debate: Debate
    plays: int
    listening_seconds: Seconds


class Trending(BaseModel):
    window: TrendingWindow
    rank_by: TrendingRank
    items: list[TrendingItem]
    generated_at: UtcDatetime


async def _cached(request: web.Request, key: str, build: Callable[[], Awaitable[BaseModel]]) -> web.Response:
    async def encoded() -> bytes:
        return (await build()).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(NAMESPACE, key, encoded)
    ttl = request.app[keys.SETTINGS].cache_ttl_stats
    return cached_response(request, cached, f"public, max-age={ttl}")


@operation(
    summary="Catalogue and audience totals",
    tags=["stats"],
    response=GlobalStats,
    description=(
        "A play is the first progress write of an account for a debate in a UTC day; listeners now "
        "are accounts with a progress write in the last `listeners_window_s` seconds. Cached for "
        "ROBIAN_CACHE_TTL_STATS seconds."
    ),
)
async def global_stats(request: web.Request) -> web.Response:
    app = request.app
    window_s = app[keys.SETTINGS].listeners_now_window_seconds

    async def build() -> GlobalStats:
        async with app[keys.DB_POOL].acquire() as conn:
            counts = await global_counts(conn, listeners_window_s=window_s)
        return GlobalStats(**counts.model_dump(), listeners_window_s=window_s, generated_at=datetime.now(UTC))

    return await _cached(request, "global", build)


@operation(
    summary="Debates ranked by plays or listening time over the last 24 hours or 7 days",
    tags=["stats"],
    query=TrendingQuery,
    response=Trending,
    description=(
        "From an hourly rollup kept by progress writes: `24h` is the current UTC hour and the 23 "
        "before it, `7d` the last 168 hours. Listening time is how far stored positions moved "
        "forward, at most 3x the time between two writes (a seek is not listening)."
    ),
)
async def trending_debates(request: web.Request, *, query: TrendingQuery) -> web.Response:
    app = request.app

    async def build() -> Trending:
        async with app[keys.DB_POOL].acquire() as conn:
            ranked = await trending(conn, window=query.window, rank_by=query.rank_by, limit=query.limit)
            debates = await debates_by_id(conn, (r.debate_id for r in ranked), media_urls(request))
        return Trending(
            window=query.window,
            rank_by=query.rank_by,
            items=[
                TrendingItem(debate=debates[r.debate_id], plays=r.plays, listening_seconds=r.seconds)
                for r in ranked
                if r.debate_id in debates
            ],
            generated_at=datetime.now(UTC),
        )

    return await _cached(request, "trending:" + query.cache_key, build)

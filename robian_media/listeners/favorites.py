"""An owner's favorite debates: list, add, remove (both idempotent)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from ..catalog.debate_queries import debate_exists
from ..catalog.models import Debate, UtcDatetime
from ..media.urls import media_urls
from ..web import keys
from ..web.device_auth import owner_transaction
from ..web.errors import NotFound
from ..web.listener_queries import Listener
from ..web.openapi import operation
from ..web.path_params import uuid_param
from .favorite_queries import FavoriteRow, add_favorite, list_favorites, remove_favorite
from .listed_debates import debates_by_id
from .owner_pages import PageQuery, TimeKey, next_cursor


class FavoriteItem(BaseModel):
    debate: Debate
    added_at: UtcDatetime


class FavoritePage(BaseModel):
    items: list[FavoriteItem]
    next_cursor: str | None


@operation(
    summary="Favorite debates, most recently added first",
    tags=["favorites"],
    query=PageQuery,
    response=FavoritePage,
    device=True,
)
async def list_favorite_debates(
    request: web.Request, *, query: PageQuery, listener: Listener
) -> web.Response:
    async with request.app[keys.DB_POOL].acquire() as conn:
        rows = await list_favorites(conn, listener.owner_id, limit=query.limit + 1, after=query.cursor)
        shown = rows[: query.limit]
        debates = await debates_by_id(conn, (r.debate_id for r in shown), media_urls(request))
    last = TimeKey(shown[-1].added_at, shown[-1].debate_id) if shown else None
    page = FavoritePage(
        items=[
            FavoriteItem(debate=debates[r.debate_id], added_at=r.added_at)
            for r in shown
            if r.debate_id in debates
        ],
        next_cursor=next_cursor(len(rows) > query.limit, last),
    )
    return web.json_response(text=page.model_dump_json())


@operation(
    summary="Add a debate to the favorites (idempotent)",
    tags=["favorites"],
    response=FavoriteRow,
    device=True,
)
async def put_favorite(request: web.Request, *, listener: Listener) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")
    async with owner_transaction(request, listener) as conn:
        favorite = await add_favorite(conn, listener.owner_id, debate_id)
    if favorite is None:
        raise NotFound(f"No debate with id {debate_id}.")
    return web.json_response(text=favorite.model_dump_json())


@operation(
    summary="Remove a debate from the favorites (idempotent)", tags=["favorites"], status=204, device=True
)
async def delete_favorite(request: web.Request, *, listener: Listener) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")
    async with owner_transaction(request, listener) as conn:
        if not await debate_exists(conn, debate_id):
            raise NotFound(f"No debate with id {debate_id}.")
        await remove_favorite(conn, listener.owner_id, debate_id)
    return web.Response(status=204)

"""An owner's collections of debates. Another owner's collection answers 404, exactly like none."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints

from ..catalog.models import Debate
from ..media.urls import media_urls
from ..web import keys
from ..web.device_auth import owner_transaction
from ..web.errors import NotFound, ValidationFailed
from ..web.listener_queries import Listener
from ..web.openapi import operation
from ..web.path_params import uuid_param
from ..web.seconds import Seconds
from .collection_queries import (
    CollectionItemRow,
    CollectionRow,
    collection_items,
    create_collection,
    delete_collection,
    get_collection,
    list_collections,
    replace_collection,
)
from .listed_debates import debates_by_id, missing_debates

COLLECTION_ITEMS_MAX = 500


class CollectionItemIn(BaseModel):
    debate_id: UUID
    start: float | None = Field(None, ge=0, allow_inf_nan=False, description="seconds into the debate")


class CollectionIn(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    items: list[CollectionItemIn] = Field(default_factory=list, max_length=COLLECTION_ITEMS_MAX)


class CollectionItem(BaseModel):
    debate_id: UUID
    start: Seconds | None
    debate: Debate


class Collection(CollectionRow):
    items: list[CollectionItem]


class CollectionList(BaseModel):
    items: list[CollectionRow]


def _not_found(collection_id: UUID) -> NotFound:
    return NotFound(f"No collection with id {collection_id}.")


async def _refuse_unknown_debates(conn: asyncpg.Connection, body: CollectionIn) -> None:
    missing = await missing_debates(conn, (item.debate_id for item in body.items))
    errors = [
        {"location": f"body.items.{i}.debate_id", "message": "no such debate", "type": "unknown_debate"}
        for i, item in enumerate(body.items)
        if item.debate_id in missing
    ]
    if errors:
        raise ValidationFailed("Some items name debates that do not exist.", errors=errors)


def _rows(body: CollectionIn) -> list[CollectionItemRow]:
    return [CollectionItemRow(debate_id=item.debate_id, start=item.start) for item in body.items]


async def _with_items(request: web.Request, conn: asyncpg.Connection, row: CollectionRow) -> Collection:
    items = await collection_items(conn, row.id)
    debates = await debates_by_id(conn, (i.debate_id for i in items), media_urls(request))
    return Collection(
        **row.model_dump(),
        items=[
            CollectionItem(debate_id=i.debate_id, start=i.start, debate=debates[i.debate_id])
            for i in items
            if i.debate_id in debates
        ],
    )


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)


@operation(
    summary="This account's collections, most recently changed first",
    tags=["collections"],
    response=CollectionList,
    device=True,
)
async def list_owner_collections(request: web.Request, *, listener: Listener) -> web.Response:
    async with request.app[keys.DB_POOL].acquire() as conn:
        rows = await list_collections(conn, listener.owner_id)
    return _json(CollectionList(items=rows))


@operation(
    summary="Create a collection",
    tags=["collections"],
    body=CollectionIn,
    response=Collection,
    status=201,
    device=True,
)
async def post_collection(request: web.Request, *, body: CollectionIn, listener: Listener) -> web.Response:
    async with owner_transaction(request, listener) as conn:
        await _refuse_unknown_debates(conn, body)
        row = await create_collection(
            conn, listener.owner_id, name=body.name, description=body.description, items=_rows(body)
        )
        collection = await _with_items(request, conn, row)
    return _json(collection, status=201)


@operation(
    summary="A collection and its items in order", tags=["collections"], response=Collection, device=True
)
async def get_owner_collection(request: web.Request, *, listener: Listener) -> web.Response:
    collection_id = uuid_param(request, "collection_id", "collection")
    async with request.app[keys.DB_POOL].acquire() as conn:
        row = await get_collection(conn, listener.owner_id, collection_id)
        if row is None:
            raise _not_found(collection_id)
        return _json(await _with_items(request, conn, row))


@operation(
    summary="Replace a collection's name, description and items",
    tags=["collections"],
    body=CollectionIn,
    response=Collection,
    device=True,
)
async def put_collection(request: web.Request, *, body: CollectionIn, listener: Listener) -> web.Response:
    collection_id = uuid_param(request, "collection_id", "collection")
    async with owner_transaction(request, listener) as conn:
        if await get_collection(conn, listener.owner_id, collection_id) is None:
            raise _not_found(collection_id)  # before judging the body: another owner's id stays a plain 404
        await _refuse_unknown_debates(conn, body)
        row = await replace_collection(
            conn,
            listener.owner_id,
            collection_id,
            name=body.name,
            description=body.description,
            items=_rows(body),
        )
        if row is None:
            raise _not_found(collection_id)
        collection = await _with_items(request, conn, row)
    return _json(collection)


@operation(summary="Delete a collection", tags=["collections"], status=204, device=True)
async def delete_owner_collection(request: web.Request, *, listener: Listener) -> web.Response:
    collection_id = uuid_param(request, "collection_id", "collection")
    async with owner_transaction(request, listener) as conn:
        if not await delete_collection(conn, listener.owner_id, collection_id):
            raise _not_found(collection_id)
    return web.Response(status=204)

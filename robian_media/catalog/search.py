"""``/api/v1/search`` (ranked French full text) and ``/api/v1/search/suggestions`` (type-ahead)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from aiohttp import web
from pydantic import BeforeValidator, Field, field_validator

from ..cache.invalidation import DEBATES
from ..cache.responses import cached_response
from ..media.urls import media_urls
from ..web import keys
from ..web.cursor import CURSOR_SCHEMA, cursor_parser, encode_cursor
from ..web.errors import ServiceUnavailable
from ..web.openapi import operation
from ..web.query_params import QueryModel, split_commas
from . import search_queries as db
from .models import SEARCH_KINDS, SearchKind, SearchPage, Suggestions
from .text_search import MAX_SEARCH_WORDS, all_prefixes_tsquery, fold, prefix_tsquery, words

SEARCH_CACHE_CONTROL = "public, max-age=30"
SUGGESTIONS_CACHE_CONTROL = "public, max-age=300"
# ranked results are not a stable order to page through forever: past this, refine the words
MAX_OFFSET = 1000
SUGGESTIONS_LIMIT = 10


def _offset(parts: list[object]) -> int:
    offset = int(str(parts[0]))
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError("offset out of range")
    return offset


SearchCursor = Annotated[int, BeforeValidator(cursor_parser(1, _offset)), CURSOR_SCHEMA]


class SearchQuery(QueryModel):
    q: str = Field(min_length=1, max_length=200, description='words; "a phrase", -excluded, or')
    kind: Annotated[list[SearchKind], BeforeValidator(split_commas)] | None = Field(
        None, description="comma-separated subset of debate,chapter,speaker,passage; default all"
    )
    limit: int = Field(20, ge=1, le=50)
    cursor: SearchCursor | None = None

    @field_validator("q")
    @classmethod
    def _few_words(cls, value: str) -> str:
        # every word (and "or") is one more index scan to combine: a long list is an attack, not a search
        count = len(words(value))
        if count > MAX_SEARCH_WORDS:
            raise ValueError(f"at most {MAX_SEARCH_WORDS} words (or, - and quotes included), got {count}")
        return value


class SuggestionQuery(QueryModel):
    q: str = Field(min_length=1, max_length=100, description="what has been typed so far")


@operation(
    summary="French full-text search over debates, chapters, speakers and passages said, best first",
    tags=["search"],
    query=SearchQuery,
    response=SearchPage,
)
async def search(request: web.Request, *, query: SearchQuery) -> web.Response:
    offset = query.cursor or 0

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            try:
                hits = await db.search(
                    conn,
                    query.q,
                    kinds=tuple(query.kind or SEARCH_KINDS),
                    limit=query.limit,
                    offset=offset,
                    urls=media_urls(request),
                )
            except asyncpg.QueryCanceledError:
                raise ServiceUnavailable(
                    "This search took too long; search with fewer or more precise words.",
                    headers={"Retry-After": "5"},
                ) from None
        following = offset + query.limit
        more = hits.more and following <= MAX_OFFSET
        page = SearchPage(items=hits.items, next_cursor=encode_cursor(following) if more else None)
        return page.model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, "search:" + query.cache_key, build)
    return cached_response(request, cached, SEARCH_CACHE_CONTROL)


@operation(
    summary="Type-ahead: speakers by name prefix, then debate titles (at most 10)",
    tags=["search"],
    query=SuggestionQuery,
    response=Suggestions,
)
async def suggestions(request: web.Request, *, query: SuggestionQuery) -> web.Response:
    typed = fold(" ".join(query.q.split()))

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            items = await db.suggestions(
                conn,
                typed,
                word_prefixes=all_prefixes_tsquery(typed),
                title_prefix=prefix_tsquery(typed),
                limit=SUGGESTIONS_LIMIT,
            )
        return Suggestions(items=items).model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, "suggest:" + typed, build)
    return cached_response(request, cached, SUGGESTIONS_CACHE_CONTROL)

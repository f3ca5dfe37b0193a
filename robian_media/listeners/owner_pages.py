"""Pages of an owner's lists, newest first: the query string and the keyset cursor (time, debate id)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NamedTuple
from uuid import UUID

from pydantic import BeforeValidator, Field

from ..web.cursor import CURSOR_SCHEMA, cursor_parser, encode_cursor, optional_time, uuid_part
from ..web.query_params import QueryModel


class TimeKey(NamedTuple):
    at: dt.datetime
    id: UUID


def _time_key(parts: list[Any]) -> TimeKey:
    at = optional_time(parts[0])
    if at is None:
        raise ValueError("cursor without time")
    return TimeKey(at, uuid_part(parts[1]))


TimeCursor = Annotated[TimeKey, BeforeValidator(cursor_parser(2, _time_key)), CURSOR_SCHEMA]


class PageQuery(QueryModel):
    limit: int = Field(50, ge=1, le=100)
    cursor: TimeCursor | None = None


def next_cursor(more: bool, last: TimeKey | None) -> str | None:
    return encode_cursor(last.at.isoformat(), str(last.id)) if more and last is not None else None

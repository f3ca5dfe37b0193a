"""Opaque pagination cursors: base64url of a small JSON array (a keyset position).

Clients pass them back verbatim; anything else is refused as an invalid ``cursor`` parameter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import WithJsonSchema

T = TypeVar("T")

MAX_CURSOR_CHARS = 512


def encode_cursor(*parts: str | int | float | None) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(token: str, arity: int) -> list[Any]:
    if len(token) > MAX_CURSOR_CHARS:
        raise ValueError("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("not a cursor given by this API; pass next_cursor back unchanged") from None
    if not isinstance(parts, list) or len(parts) != arity:
        raise ValueError("not a cursor given by this API; pass next_cursor back unchanged")
    return parts


def optional_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor time without zone")
    return parsed


def cursor_parser(arity: int, build: Callable[[list[Any]], T]) -> Callable[[Any], T | Any]:
    """A ``BeforeValidator`` function: the wire string → ``build(parts)``; a bad token → ValueError."""

    def parse(value: Any) -> T | Any:
        if not isinstance(value, str):
            return value  # already a key (the model is being re-validated)
        parts = decode_cursor(value, arity)
        try:
            return build(parts)
        except (TypeError, ValueError):
            raise ValueError("not a cursor given by this API; pass next_cursor back unchanged") from None

    return parse


# how a cursor parameter appears in the Swagger document
CURSOR_SCHEMA = WithJsonSchema({"type": "string", "description": "next_cursor of the previous page"})


def uuid_part(value: Any) -> UUID:
    return UUID(str(value))

"""Typed path parameters: an id that cannot exist is simply not found."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from .errors import NotFound


def uuid_param(request: web.Request, name: str, what: str) -> UUID:
    raw = request.match_info[name]
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No {what} with id {raw!r}.") from None

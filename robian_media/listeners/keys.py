"""The listeners feature's shared state behind typed ``web.AppKey``s (the core's are in web/keys.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .limits import ListenerLimits

LISTENER_LIMITS: web.AppKey[ListenerLimits] = web.AppKey("listener_limits")

"""The live feature's shared state behind typed ``web.AppKey``s (the core's are in web/keys.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..web.client_slots import ClientSlots
    from .playlist_watch import PlaylistWatch

# LL-HLS blocking playlist reloads and the held hinted parts wait on it
PLAYLIST_WATCH: web.AppKey[PlaylistWatch] = web.AppKey("playlist_watch")
# blocking playlist reloads held at once: per process and per client
RELOAD_SLOTS: web.AppKey[ClientSlots] = web.AppKey("reload_slots")

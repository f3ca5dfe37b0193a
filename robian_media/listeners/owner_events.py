"""Events on an owner's private channel (``owner:{owner_id}``), so the owner's other devices follow live."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from aiohttp import web

from ..web import keys
from ..web.device_auth import owner_channel

log = logging.getLogger(__name__)


async def publish_to_owner(app: web.Application, owner_id: UUID, type: str, data: dict[str, Any]) -> None:
    """Best effort: called after the write committed, so a bus failure must not fail the request;
    a device that missed the update gets it from the next GET."""
    try:
        await app[keys.EVENT_BUS].publish(owner_channel(owner_id), type, data)
    except Exception as exc:  # whatever the bus backend raises, the committed write stands
        log.warning("owner event not published", extra={"type": type, "error": repr(exc)})

"""What the rest of the system calls when data behind cached API responses changes.

Namespaces and their TTLs (settings): ``debates`` (lists, details, chapters, search, suggestions),
``streaming`` (stream info, one key per debate), ``metadata`` (speakers, interventions, programme).
Call these after the transaction that changed the rows has committed. ``target`` is the running
``web.Application`` (drops this node's micro-cache too) or a bare :class:`~robian_media.cache.store.Cache`
(a worker process): other nodes' micro-caches follow within ``ROBIAN_CACHE_LOCAL_TTL`` seconds.
"""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

from aiohttp import web

from ..web import keys

log = logging.getLogger(__name__)

DEBATES = "debates"
STREAMING = "streaming"
METADATA = "metadata"


class Invalidates(Protocol):
    async def invalidate(self, namespace: str, key: str | None = None) -> None: ...


def stream_key(debate_id: UUID | str) -> str:
    return f"stream:{debate_id}"


def legacy_stream_key(debate_id: UUID | str) -> str:
    return f"legacy-stream:{debate_id}"


def _cache(target: web.Application | Invalidates) -> Invalidates | None:
    if isinstance(target, web.Application):
        return target.get(keys.RESPONSE_CACHE) or target.get(keys.CACHE)
    return target


async def debate_changed(target: web.Application | Invalidates, debate_id: UUID | str) -> None:
    """A debate was created, deleted, changed state (live, failed…) or got a new published version.

    Lists, details and search move; so do speakers' interventions and the programme's links.
    """
    cache = _cache(target)
    if cache is None:
        return
    await cache.invalidate(DEBATES)
    await cache.invalidate(METADATA)
    await cache.invalidate(STREAMING, stream_key(debate_id))
    await cache.invalidate(STREAMING, legacy_stream_key(debate_id))


async def invalidate_debate_caches(
    target: web.Application | Invalidates | None, debate_id: UUID | str
) -> None:
    """:func:`debate_changed` where the change is committed already (a job, a live sitting): a cache
    failure is logged, never raised."""
    if target is None:
        return
    try:
        await debate_changed(target, debate_id)
    except Exception:  # the cache is a speed layer: a failure must not fail a job
        log.warning("cache invalidation failed", extra={"debate_id": str(debate_id)}, exc_info=True)


# publishing a version is a change of the debate: the same keys move
debate_published = debate_changed


async def speakers_changed(target: web.Application | Invalidates) -> None:
    """Speakers (names, groups) were imported or edited: chapters show them too."""
    cache = _cache(target)
    if cache is None:
        return
    await cache.invalidate(METADATA)
    await cache.invalidate(DEBATES)


async def programme_changed(target: web.Application | Invalidates) -> None:
    """Agenda items were imported."""
    cache = _cache(target)
    if cache is not None:
        await cache.invalidate(METADATA)

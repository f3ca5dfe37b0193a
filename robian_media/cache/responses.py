"""Cached JSON responses: serialized bytes and their strong ETag, kept together.

A hit costs a dictionary lookup and one ``web.Response``: nothing is re-serialized or re-hashed.
Layers: an in-process copy for ``cache_local_ttl`` seconds (micro-cache), then the shared
:class:`~robian_media.cache.store.Cache` (Redis, or its local fallback), then the builder, at most one
build at a time per key (the shared cache's stampede protection).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from typing import NamedTuple

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric

from .store import Cache, LocalLRU

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class CachedBody(NamedTuple):
    etag: str
    body: bytes

    @classmethod
    def of(cls, body: bytes) -> CachedBody:
        # a validator, not a secret: SHA-1 runs in the CPU's own instructions (twice blake2b's speed)
        return cls('"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:32] + '"', body)

    def pack(self) -> bytes:
        return self.etag.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, raw: bytes) -> CachedBody:
        etag, _, body = raw.partition(b"\n")
        return cls(etag.decode(), body)


class LookupCounts:
    """Lookups per (namespace, result) as plain numbers (the hot path), exposed when scraped.

    result: ``local`` (the in-process copy), ``shared`` (Redis or its fallback), ``built`` (a miss).
    """

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        if registry is not None:
            registry.register(self)

    def add(self, namespace: str, result: str) -> None:
        key = (namespace, result)
        self.counts[key] = self.counts.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "robian_response_cache_lookups",
            "Cached API answers looked up, by namespace and where they were found (built = a miss)",
            labels=["namespace", "result"],
        )
        for (namespace, result), count in self.counts.items():
            family.add_metric([namespace, result], count)
        yield family


class ResponseCache:
    """Response bodies per namespace and key; ``shared=None`` disables caching entirely."""

    def __init__(
        self,
        shared: Cache | None,
        *,
        local_ttl: float,
        local_max_entries: int,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.shared = shared
        self._local_ttl = local_ttl
        self._local: LocalLRU[CachedBody] = LocalLRU(local_max_entries)
        self.lookups = LookupCounts(registry)

    @property
    def enabled(self) -> bool:
        return self.shared is not None

    async def get_or_build(
        self, namespace: str, key: str, build: Callable[[], Awaitable[bytes]]
    ) -> CachedBody:
        if self.shared is None:
            return CachedBody.of(await build())
        local_key = f"{namespace}:{key}"
        hit = self._local.get(local_key)
        if hit is not None:
            self.lookups.add(namespace, "local")
            return hit
        result = "shared"

        async def build_packed() -> bytes:
            nonlocal result
            result = "built"
            return CachedBody.of(await build()).pack()

        cached = CachedBody.unpack(await self.shared.get_or_build(namespace, key, build_packed))
        self.lookups.add(namespace, result)
        if self._local_ttl:
            self._local.set(local_key, cached, min(self._local_ttl, self.shared.ttl(namespace)))
        return cached

    async def invalidate(self, namespace: str, key: str | None = None) -> None:
        """Drop one key (or the namespace) here and in the shared cache."""
        self._local.delete_prefix(f"{namespace}:{key}" if key is not None else f"{namespace}:")
        if self.shared is not None:
            await self.shared.invalidate(namespace, key)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match asks."""
    if if_none_match.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in if_none_match.split(","))


def cached_response(
    request: web.Request, cached: CachedBody, cache_control: str, content_type: str = JSON_CONTENT_TYPE
) -> web.Response:
    """200 with the body, or 304 when the client already holds this representation."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and etag_matches(if_none_match, cached.etag):
        return web.Response(status=304, headers={"ETag": cached.etag, "Cache-Control": cache_control})
    return web.Response(
        body=cached.body,
        headers={"Content-Type": content_type, "ETag": cached.etag, "Cache-Control": cache_control},
    )

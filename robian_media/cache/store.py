"""Response cache with a TTL per namespace: Redis when it answers, an in-process LRU otherwise.

Redis is a speed layer: when it is unset or down the cache degrades to a bounded local LRU and
remembers the invalidations it could not send, replaying them when Redis answers again so no node
keeps serving what another node invalidated.

Every invalidation also bumps its namespace's generation (in the process and in Redis). A build
stores its result only if no invalidation of that namespace happened while it ran: otherwise a
reader that started building just before a publish would cache the old state for a whole TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# after a Redis failure, requests go local for this long before Redis is tried again
RETRY_AFTER_S = 1.0
LOCK_TTL_MS = 5000

V = TypeVar("V")

# SET + index only if the namespace's generation is still the one read before the build
SET_IF_GENERATION = """
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 1
"""


async def _transaction(redis: Redis, commands: list[tuple[Any, ...]]) -> None:
    """MULTI/EXEC of ``(command, *args)``; tried twice because redis-py does not retry transactions
    on a connection that died with a Redis restart, and a second attempt takes a fresh connection."""
    for attempt in (1, 2):
        try:
            async with redis.pipeline(transaction=True) as pipe:
                for command in commands:
                    pipe.execute_command(*command)
                await pipe.execute()
                return
        except RedisConnectionError:
            if attempt == 2:
                raise


class LocalLRU(Generic[V]):
    """Bounded LRU with per-entry expiry."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._data: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def set(self, key: str, value: V, ttl: float) -> None:
        self._data[key] = (time.monotonic() + ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def delete_prefix(self, prefix: str) -> None:
        for key in [k for k in self._data if k.startswith(prefix)]:
            del self._data[key]

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Cache:
    def __init__(
        self, redis: Redis | None, *, prefix: str, ttls: dict[str, int], local_max_entries: int
    ) -> None:
        self._redis = redis
        self._prefix = prefix + "cache:"
        self._ttls = ttls
        self._local: LocalLRU[bytes] = LocalLRU(local_max_entries)
        self._redis_down_until = 0.0
        self._pending_invalidations: set[tuple[str, str | None]] = set()
        self._building: dict[str, asyncio.Future[bytes]] = {}
        self._reading: dict[str, asyncio.Future[Any]] = {}  # Redis GETs in flight, by key
        self._generations: dict[str, int] = {}  # invalidations seen by this process, per namespace
        self._set_if_generation = redis.register_script(SET_IF_GENERATION) if redis is not None else None
        self.hits = 0
        self.misses = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        if self._redis is None:
            return "local"
        return "local-fallback" if self._redis_down_until > time.monotonic() else "redis"

    def ttl(self, namespace: str) -> int:
        return self._ttls[namespace]

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{namespace}:{key}"

    def _index_key(self, namespace: str) -> str:
        return f"{self._prefix}index:{namespace}"

    def _generation_key(self, namespace: str) -> str:
        return f"{self._prefix}generation:{namespace}"

    async def _usable_redis(self) -> Redis | None:
        if self._redis is None or self._redis_down_until > time.monotonic():
            return None
        if self._pending_invalidations or self._redis_down_until:
            try:
                await self._replay_invalidations(self._redis)
            except RedisError as exc:
                self._mark_down(exc)
                return None
        return self._redis

    def _mark_down(self, exc: Exception) -> None:
        if self._redis_down_until <= time.monotonic():
            log.warning("redis unavailable, cache falls back to memory", extra={"error": repr(exc)})
        self._redis_down_until = time.monotonic() + RETRY_AFTER_S

    async def _replay_invalidations(self, redis: Redis) -> None:
        for namespace, key in list(self._pending_invalidations):
            await self._invalidate_redis(redis, namespace, key)
            self._pending_invalidations.discard((namespace, key))
        if self._redis_down_until:
            # what the local copy holds may predate invalidations made on other nodes
            self._local.clear()
            self._redis_down_until = 0.0
            log.info("redis back, cache uses it again")

    # -- operations ----------------------------------------------------------------------------
    async def get(self, namespace: str, key: str) -> bytes | None:
        redis = await self._usable_redis()
        value: bytes | None
        if redis is None:
            value = self._local.get(self._key(namespace, key))
        else:
            try:
                value = await self._shared_read(redis, self._key(namespace, key))
            except RedisError as exc:
                self._mark_down(exc)
                value = self._local.get(self._key(namespace, key))
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def _shared_read(self, redis: Redis, full: str) -> bytes | None:
        """GET ``full``, one round trip shared by every concurrent reader of the key in this process.

        A popular answer read from Redis by many requests at once costs one GET; an invalidation
        forgets the reads in flight (:meth:`_forget_reads`), so a request that comes after it never
        gets a value read before it.
        """
        reading = self._reading.get(full)
        if reading is None:
            reading = asyncio.ensure_future(redis.get(full))
            self._reading[full] = reading
            reading.add_done_callback(lambda done: self._read_done(full, done))
        return cast(bytes | None, await asyncio.shield(reading))

    def _read_done(self, full: str, done: asyncio.Future[Any]) -> None:
        if self._reading.get(full) is done:
            del self._reading[full]
        if not done.cancelled():
            done.exception()  # retrieved: each reader gets it from its own await

    def _forget_reads(self, prefix: str) -> None:
        for full in [k for k in self._reading if k.startswith(prefix)]:
            del self._reading[full]

    async def set(self, namespace: str, key: str, value: bytes) -> None:
        ttl = self._ttls[namespace]
        full = self._key(namespace, key)
        redis = await self._usable_redis()
        if redis is not None:
            try:
                index = self._index_key(namespace)
                await _transaction(
                    redis,
                    [("SET", full, value, "EX", ttl), ("SADD", index, full), ("EXPIRE", index, ttl * 2)],
                )
                return
            except RedisError as exc:
                self._mark_down(exc)
        self._local.set(full, value, ttl)

    async def invalidate(self, namespace: str, key: str | None = None) -> None:
        """Drop one key, or the whole namespace when ``key`` is None."""
        prefix = self._key(namespace, key) if key is not None else self._key(namespace, "")
        self._local.delete_prefix(prefix)
        self._forget_reads(prefix)
        self._generations[namespace] = self._generations.get(namespace, 0) + 1
        redis = await self._usable_redis()
        if redis is None:
            if self._redis is not None:
                self._pending_invalidations.add((namespace, key))
            return
        try:
            await self._invalidate_redis(redis, namespace, key)
        except RedisError as exc:
            self._mark_down(exc)
            self._pending_invalidations.add((namespace, key))

    async def _invalidate_redis(self, redis: Redis, namespace: str, key: str | None) -> None:
        bump = ("INCR", self._generation_key(namespace))
        if key is not None:
            full = self._key(namespace, key)
            index = self._index_key(namespace)
            await _transaction(redis, [("DEL", full), ("SREM", index, full), bump])
            return
        index = self._index_key(namespace)
        members = await redis.smembers(index)
        await _transaction(redis, [("DEL", *members, index), bump])

    async def get_or_build(self, namespace: str, key: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """Cached value, or one build shared by every concurrent caller (stampede protection).

        Within a process, concurrent misses await the same build. Across nodes a short Redis lock
        lets one node rebuild while the others wait briefly for its result.
        """
        cached = await self.get(namespace, key)
        if cached is not None:
            return cached
        full = self._key(namespace, key)
        running = self._building.get(full)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._building[full] = future
        try:
            # a build that finished while our first lookup was in flight has stored its value
            value = await self.get(namespace, key) or await self._build_once_across_nodes(
                namespace, key, build
            )
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            # the waiters get the exception; nobody else retrieves it from this future
            future.exception()
            raise
        finally:
            del self._building[full]

    async def _build_once_across_nodes(
        self, namespace: str, key: str, build: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        redis = await self._usable_redis()
        lock_key = self._key("lock", f"{namespace}:{key}")
        locked = False
        if redis is not None:
            try:
                locked = bool(await redis.set(lock_key, b"1", nx=True, px=LOCK_TTL_MS))
                if not locked:
                    for _ in range(20):  # another node builds: wait up to ~1 s for its value
                        await asyncio.sleep(0.05)
                        value = await self._shared_read(redis, self._key(namespace, key))
                        if value is not None:
                            return value
            except RedisError as exc:
                self._mark_down(exc)
        try:
            local_generation = self._generations.get(namespace, 0)
            redis_generation = await self._redis_generation(redis, namespace)
            value = await build()
            if self._generations.get(namespace, 0) == local_generation:
                await self._set_unless_invalidated(namespace, key, value, redis_generation)
            return value
        finally:
            if redis is not None and locked:
                try:
                    await redis.delete(lock_key)
                except RedisError as exc:
                    self._mark_down(exc)

    async def _redis_generation(self, redis: Redis | None, namespace: str) -> bytes | None:
        """The namespace's generation in Redis before a build (None: Redis not usable)."""
        if redis is None:
            return None
        try:
            return cast(bytes | None, await redis.get(self._generation_key(namespace))) or b"0"
        except RedisError as exc:
            self._mark_down(exc)
            return None

    async def _set_unless_invalidated(
        self, namespace: str, key: str, value: bytes, redis_generation: bytes | None
    ) -> None:
        redis = await self._usable_redis()
        if redis is None or self._set_if_generation is None:
            self._local.set(self._key(namespace, key), value, self._ttls[namespace])
            return
        if redis_generation is None:
            return  # Redis came back during the build: what it missed meanwhile is unknown
        keys = [self._key(namespace, key), self._index_key(namespace), self._generation_key(namespace)]
        try:
            await self._set_if_generation(keys=keys, args=[value, self._ttls[namespace], redis_generation])
        except RedisError as exc:
            self._mark_down(exc)
            self._local.set(self._key(namespace, key), value, self._ttls[namespace])

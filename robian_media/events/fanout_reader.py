"""The one Redis reader of a listening process: ``XREAD`` on the fan-out stream, from its last id, forever.

It has its own connection (a blocking read must not hold a connection publishers need), reconnects
with a short backoff while Redis is away, and resumes from the last id it handed over, so a lost
connection costs nothing the stream still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from ..ops.background import raise_if_cancelling

log = logging.getLogger(__name__)

READ_BLOCK_MS = 5000
READ_COUNT = 1000
BACKOFF_S = (0.1, 1.0)
# how long stop() lets a cancellation work before it closes the connection under the read
STOP_GRACE_S = 0.2

IO_ERRORS = (RedisError, OSError, asyncio.TimeoutError)

Entry = tuple[str, Mapping[bytes, bytes]]
# called with the entries of one read, in id order
OnEntries = Callable[[list[Entry]], None]


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class FanoutReader:
    def __init__(
        self,
        url: str,
        key: str,
        *,
        on_entries: OnEntries,
        on_up: Callable[[], None],
        on_down: Callable[[BaseException], None],
    ) -> None:
        self._key = key
        self._on_entries = on_entries
        self._on_up = on_up
        self._on_down = on_down
        self._client = Redis.from_url(
            url,
            socket_timeout=READ_BLOCK_MS / 1000 + 5,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
            single_connection_client=True,
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self, last_id: str) -> None:
        self._task = asyncio.create_task(self._read_forever(last_id), name="events-fanout-reader")
        self._task.add_done_callback(_log_crash)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            task.cancel()
            # Python 3.11's wait_for (used inside redis-py) drops a cancellation that lands just as
            # a reply arrives; closing the connection then ends the read, and the flag ends the loop
            _, pending = await asyncio.wait({task}, timeout=STOP_GRACE_S)
            if pending:
                await self._client.connection_pool.disconnect(inuse_connections=True)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._client.aclose()

    async def _read_forever(self, last_id: str) -> None:
        backoff = BACKOFF_S[0]
        while not self._stopping:
            try:
                streams: dict[Any, Any] = {self._key: last_id}
                reply: Any = await self._client.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS)
            except IO_ERRORS as exc:
                raise_if_cancelling()
                if self._stopping:
                    return
                self._on_down(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_S[1])
                continue
            self._on_up()
            backoff = BACKOFF_S[0]
            # RESP2 answers [[stream, entries]], RESP3 {stream: [entries]}
            batches: list[list[tuple[bytes, dict[bytes, bytes]]]] = (
                list(reply.values()) if isinstance(reply, dict) else [entries for _, entries in reply or ()]
            )
            for entries in batches:
                if entries:
                    read: list[Entry] = [(text(entry_id), fields) for entry_id, fields in entries]
                    last_id = read[-1][0]
                    self._on_entries(read)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("event fan-out reader stopped", exc_info=task.exception())

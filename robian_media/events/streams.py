"""SSE and WebSocket listeners: events written straight to each client's socket, bounded per client.

Why not one task and one ``asyncio.Queue`` per client (the textbook shape, and the baseline in
``bench/fanout_bench.py``)? Broadcasting one event then wakes every client task, and each encodes
the event again: at 20 000 listeners that alone is ≈ 2× the latency budget. Here the hub encodes an
event once (``Frames``) and, for each listener, does one non-blocking ``transport.write`` of those
bytes — exactly the bytes aiohttp-sse's ``send`` or aiohttp's ``send_str`` would write.

The per-client bound is ``events_listener_buffer_bytes`` of unsent bytes in the transport (and
about as much in the kernel: the socket's send buffer is set to it): a client that lets it fill
is too slow; it gets a final message (SSE ``event: error``, WebSocket
close 4000) and is disconnected, never slowing the others or growing memory. While a client's
replay is being sent, live events wait in a bounded queue (``events_listener_queue``) and are
released afterwards minus those the replay already carried (dedupe by id).
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Collection
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from ..web import keys
from ..web.device_auth import owner_channel
from ..web.listener_queries import Listener as DeviceListener
from .event import Event, Frames, dumps, http_chunk, sse_frame, ws_close_frame
from .hub import DISCONNECTED, REVOKED, SHUTDOWN, SLOW_CONSUMER, Batch, Handed, Listener

# a closed-but-unread client is cut off after this long (its unsent bytes are held until then)
SLOW_CLOSE_GRACE_S = 30.0
SHUTDOWN_CLOSE_GRACE_S = 1.0

WS_SLOW_CONSUMER = 4000
WS_IDLE = 4001
WS_REVOKED = 4003
REVOKED_DETAIL = "this device was revoked: register it again with POST /api/v1/devices"
WS_GOING_AWAY = 1001


class StreamListener(Listener):
    def __init__(
        self,
        transport: asyncio.Transport,
        *,
        max_buffer_bytes: int,
        max_pending: int,
        device: str | None = None,
        owner_channel: str | None = None,
    ) -> None:
        self.channels = frozenset()
        self.device = device
        self.owner_channel = owner_channel
        self.closed_reason = None
        self.last_id: str | None = None
        self._transport = transport
        self._max_buffer = max_buffer_bytes
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # the kernel's share of the bound: autotuned, a send buffer grows to megabytes for a client
            # that stopped reading; an event stream needs a few kilobytes a second
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max_buffer_bytes)
        self._max_pending = max_pending
        # events held while a replay is sent; None once live
        self._pending: deque[tuple[Event, Frames]] | None = None

    def _frame(self, frames: Frames) -> bytes:
        raise NotImplementedError

    def _say_goodbye(self, reason: str) -> None:
        raise NotImplementedError

    def deliver(self, batch: Batch) -> Handed:
        if self.closed_reason is not None:
            return Handed.SKIPPED
        pending = self._pending
        if pending is not None:
            if len(pending) + len(batch) > self._max_pending:
                self.close(SLOW_CONSUMER)
                return Handed.DROPPED
            pending.extend(batch)
            return Handed.DELIVERED
        transport = self._transport
        if transport.is_closing():
            self.close(DISCONNECTED)
            return Handed.SKIPPED
        if transport.get_write_buffer_size() > self._max_buffer:
            self.close(SLOW_CONSUMER)
            return Handed.DROPPED
        if len(batch) == 1:
            transport.write(self._frame(batch[0][1]))
        else:
            transport.write(b"".join(self._frame(frames) for _, frames in batch))
        self.last_id = batch[-1][0].id
        return Handed.DELIVERED

    def hold(self) -> None:
        """Queue live events (bounded) while a replay is being sent."""
        if self._pending is None:
            self._pending = deque()

    def release(self, already_sent: Collection[str]) -> None:
        """Write the held events the replay did not carry, then go live (no await: no gap)."""
        pending, self._pending = self._pending, None
        unsent = [item for item in pending or () if item[0].id not in already_sent]
        if unsent:
            self.deliver(unsent)

    def close(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self._pending = None
        if reason != DISCONNECTED and not self._transport.is_closing():
            self._say_goodbye(reason)
        self._ended()

    def _ended(self) -> None:
        """Wake the connection's handler if it would not notice by itself."""

    def _close_transport(self, grace_s: float) -> None:
        """Close after the unsent bytes (the goodbye included) are flushed, or cut off after a grace."""
        transport = self._transport
        transport.close()
        asyncio.get_running_loop().call_later(grace_s, _cut_off, transport)


def stream_identity(identity: DeviceListener | None) -> dict[str, Any]:
    """The device a stream was opened with (its revocation ends the stream on every node)."""
    if identity is None:
        return {}
    return {"device": str(identity.device_id), "owner_channel": owner_channel(identity.owner_id)}


def _cut_off(transport: asyncio.Transport) -> None:
    # an empty buffer means the close went through (aborting a lost transport would fail)
    if transport.get_write_buffer_size():
        transport.abort()


class SseListener(StreamListener):
    kind = "sse"

    def __init__(self, response: EventSourceResponse, transport: asyncio.Transport, **options: Any) -> None:
        super().__init__(transport, **options)
        self._response = response
        self._chunked = response.chunked

    def _frame(self, frames: Frames) -> bytes:
        return frames.sse_chunked if self._chunked else frames.sse

    def _write(self, body: bytes) -> None:
        self._transport.write(http_chunk(body) if self._chunked else body)

    def _say_goodbye(self, reason: str) -> None:
        if reason == SLOW_CONSUMER:
            detail = "too slow to keep up: reconnect with Last-Event-ID to resume"
            farewell = {"error": reason, "detail": detail, "last_event_id": self.last_id}
            self._write(sse_frame(dumps(farewell), event="error"))
            self._close_transport(SLOW_CLOSE_GRACE_S)
        elif reason == REVOKED:
            # then the response ends cleanly (_ended): EventSource reconnects, and its token gets a 401
            self._write(sse_frame(dumps({"error": reason, "detail": REVOKED_DETAIL}), event="error"))
        # at shutdown, the end of the response is the message: EventSource reconnects with its last id

    def _ended(self) -> None:
        # the handler waits on aiohttp-sse's ping task; stopping it ends the response
        self._response.stop_streaming()


class WsListener(StreamListener):
    kind = "ws"

    def _frame(self, frames: Frames) -> bytes:
        return frames.ws

    def _say_goodbye(self, reason: str) -> None:
        # written here, synchronously: the handler's receive() then sees the connection end
        if reason == SLOW_CONSUMER:
            self._transport.write(
                ws_close_frame(WS_SLOW_CONSUMER, f"slow consumer: resubscribe with since={self.last_id}")
            )
            self._close_transport(SLOW_CLOSE_GRACE_S)
        elif reason == REVOKED:
            self._transport.write(ws_close_frame(WS_REVOKED, REVOKED_DETAIL))
            self._close_transport(SHUTDOWN_CLOSE_GRACE_S)
        else:
            self._transport.write(ws_close_frame(WS_GOING_AWAY, "server shutting down"))
            self._close_transport(SHUTDOWN_CLOSE_GRACE_S)


async def end_streams(app: web.Application) -> None:
    """``on_shutdown``: every SSE/WebSocket stream (and queue subscription) of this app finishes now."""
    bus = app.get(keys.EVENT_BUS)
    if bus is not None:
        bus.hub.close_all(SHUTDOWN)

"""Event clients for tests: a small SSE parser (aiohttp's client has none) and a raw socket reader."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class SseMessage:
    event: str = "message"
    data: str = ""
    id: str | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseParser:
    """The text/event-stream rules (WHATWG): fields per line, blank line dispatches, ':' comments."""

    comments: list[str] = field(default_factory=list)
    _fields: dict[str, str] = field(default_factory=dict)
    _data: list[str] = field(default_factory=list)

    def feed_line(self, line: str) -> SseMessage | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and not self._fields:
                return None
            message = SseMessage(
                event=self._fields.get("event", "message"),
                data="\n".join(self._data),
                id=self._fields.get("id"),
            )
            self._fields, self._data = {}, []
            return message
        if line.startswith(":"):
            self.comments.append(line[1:].strip())
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        else:
            self._fields[name] = value
        return None


class SseStream:
    """An open SSE response read message by message."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.parser = SseParser()

    async def next(self, timeout: float = 10.0) -> SseMessage:
        async with asyncio.timeout(timeout):
            while True:
                line = await self.response.content.readline()
                if not line:
                    raise EOFError("the server ended the stream")
                message = self.parser.feed_line(line.decode())
                if message is not None:
                    return message

    async def events(self, count: int, timeout: float = 10.0) -> list[SseMessage]:
        return [await self.next(timeout) for _ in range(count)]

    async def until_closed(self, timeout: float = 10.0) -> list[SseMessage]:
        seen = []
        try:
            while True:
                seen.append(await self.next(timeout))
        except (EOFError, aiohttp.ClientPayloadError):
            return seen

    def close(self) -> None:
        self.response.close()


async def open_sse(
    session: aiohttp.ClientSession, url: str, *, last_event_id: str | None = None
) -> SseStream:
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    response = await session.get(url, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/event-stream"
    return SseStream(response)


async def _small_window_connection(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection whose client side buffers little (4 KB socket, 4 KB reader): when its owner does
    not read, the server notices within a few kilobytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock, limit=4096)


async def open_lazy_sse(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An SSE request whose client then does not read (until it does)."""
    reader, writer = await _small_window_connection(port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


async def open_lazy_ws(
    port: int, message: dict[str, Any]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket (RFC 6455 by hand) that sends one message and then does not read (until it does)."""
    reader, writer = await _small_window_connection(port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    payload = json.dumps(message).encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    writer.write(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)
    await writer.drain()
    return reader, writer


async def read_ws_until_close(reader: asyncio.StreamReader) -> tuple[int, str] | None:
    """Read server frames until a close frame: its (code, reason); None if the connection just ended."""
    try:
        while True:
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await reader.readexactly(8))
            payload = await reader.readexactly(length)
            if first & 0x0F == 0x8:
                (code,) = struct.unpack("!H", payload[:2])
                return code, payload[2:].decode()
    except asyncio.IncompleteReadError:
        return None


async def events_until(
    subscription: Any, done: Callable[[list[Any]], bool], timeout: float = 10.0
) -> list[Any]:
    """Events of an in-process bus subscription, read until ``done(events)`` (delivery may go via Redis)."""
    events: list[Any] = []
    async with asyncio.timeout(timeout):
        while not done(events):
            events.append(await subscription.get())
    return events


async def quiet(subscription: Any, seconds: float = 0.3) -> list[Any]:
    """What else arrives within ``seconds``: for asserting that nothing more was published."""
    await asyncio.sleep(seconds)
    return list(subscription.drain())

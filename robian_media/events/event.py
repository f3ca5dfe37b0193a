"""An event, its resumable id, and its wire frames (SSE and WebSocket), encoded once per node.

Event ids are ``"<ms>-<seq>"``: with Redis, the id Redis gives the event in the deployment-wide
fan-out stream (``XADD … *``), reused as the entry id in the event's channel stream; without Redis,
the same shape from an in-process counter. One id therefore orders every event of every channel,
so a client following several channels resumes with a single ``Last-Event-ID`` (see ``redis_bus``).
Events a node publishes while Redis is down carry ``"<ms>-<seq>.<n>"``: they sort after the last
id the node saw from Redis and before any later one, so a resume from them loses nothing Redis has.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

_ID = re.compile(r"(\d{1,15})-(\d{1,15})(?:\.(\d{1,15}))?")


class EventKey(NamedTuple):
    """The ordering of an event id: compare keys, never id strings."""

    ms: int
    seq: int
    sub: int = 0

    @property
    def stream_id(self) -> str:
        """The Redis stream id this key follows (outage sub-ids share their base)."""
        return f"{self.ms}-{self.seq}"


ZERO_KEY = EventKey(0, 0)


def parse_event_id(value: str) -> EventKey:
    """``"ms-seq"`` or ``"ms-seq.n"`` → key; ``ValueError`` for anything else."""
    match = _ID.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value[:40]!r} is not an event id of this server (expected <ms>-<seq>)")
    ms, seq, sub = match.groups()
    return EventKey(int(ms), int(seq), int(sub or 0))


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    channel: str
    type: str
    ts: str
    data: dict[str, Any]

    @property
    def key(self) -> EventKey:
        return parse_event_id(self.id)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "type": self.type, "ts": self.ts, "data": self.data}


def _ws_text_frame(payload: bytes) -> bytes:
    """An unmasked, uncompressed RFC 6455 text frame: what a server sends."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def sse_frame(data: str, *, id: str | None = None, event: str | None = None) -> bytes:
    """The bytes aiohttp-sse's ``send`` writes (CRLF separator); ``data`` holds no newline (JSON)."""
    head = (f"id: {id}\r\n" if id is not None else "") + (f"event: {event}\r\n" if event else "")
    return f"{head}data: {data}\r\n\r\n".encode()


def http_chunk(body: bytes) -> bytes:
    """One HTTP/1.1 chunk, as aiohttp's chunked writer frames a ``write``."""
    return b"%x\r\n%b\r\n" % (len(body), body)


class Frames:
    """The wire forms of one event, built on first use and shared by every listener."""

    __slots__ = ("_json", "_sse", "_sse_chunked", "_ws", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._json: str | None = None
        self._sse: bytes | None = None
        self._sse_chunked: bytes | None = None
        self._ws: bytes | None = None

    @property
    def json(self) -> str:
        if self._json is None:
            self._json = dumps(self.event.as_json())
        return self._json

    @property
    def sse(self) -> bytes:
        if self._sse is None:
            self._sse = sse_frame(self.json, id=self.event.id, event=self.event.type)
        return self._sse

    @property
    def sse_chunked(self) -> bytes:
        if self._sse_chunked is None:
            self._sse_chunked = http_chunk(self.sse)
        return self._sse_chunked

    @property
    def ws_message(self) -> str:
        return '{"op":"event",' + self.json[1:]

    @property
    def ws(self) -> bytes:
        if self._ws is None:
            self._ws = _ws_text_frame(self.ws_message.encode())
        return self._ws


def ws_close_frame(code: int, reason: str) -> bytes:
    """A close frame (code + UTF-8 reason ≤ 123 bytes)."""
    payload = struct.pack("!H", code) + reason.encode()[:123]
    return struct.pack("!BB", 0x88, len(payload)) + payload

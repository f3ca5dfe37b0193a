"""Load generator for fanout_bench: thousands of SSE / WebSocket listeners in one process.

A plain ``selectors`` loop over non-blocking sockets (no asyncio: the client side must cost little).
Each event carries ``"t":<publish time.time()>``. For every event a listener records two latencies:

- arrival: when the kernel queued the bytes on the listener's socket (``SO_TIMESTAMPNS`` on the
  ``recvmsg``), minus ``t`` — what the server costs, whatever the load generator's own delay;
- handled: when this process got to it, minus ``t`` — arrival plus the load generator's scheduling
  (thousands of sockets per process, on a CPU shared with other work).

Controlled by the coordinator over a pipe: ``"counts"``, ``"collect"`` (latencies since the last
collect), ``"stop"`` (close every socket with RST, so no TIME_WAIT eats the port range, and exit).
"""

from __future__ import annotations

import base64
import json
import os
import resource
import selectors
import socket
import struct
import time
from array import array
from multiprocessing.connection import Connection
from typing import Any

MARKER = b'"t":'
CONNECTS_IN_FLIGHT = 256
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python does not export it


class Listener:
    __slots__ = ("buf", "head_done", "kind", "ready", "sock", "tail")

    def __init__(self, sock: socket.socket, kind: str) -> None:
        self.sock = sock
        self.kind = kind
        self.head_done = False  # the HTTP response head was read
        self.ready = False  # SSE: streaming; WebSocket: subscription acknowledged
        self.buf = bytearray()  # response head, then WebSocket frames not yet complete
        self.tail = b""  # SSE: bytes after the last complete marker


class LoadProcess:
    def __init__(self, host: str, port: int, source_ip: str, sse_path: str, ws_channels: list[str]) -> None:
        self.addr = (host, port)
        self.source_ip = source_ip
        self.sse_request = (
            f"GET {sse_path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        key = base64.b64encode(os.urandom(16)).decode()
        self.ws_request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        payload = json.dumps({"op": "subscribe", "channels": ws_channels}).encode()
        self.ws_subscribe = masked_frame(0x1, payload)
        self.sel = selectors.DefaultSelector()
        self.listeners: list[Listener] = []
        self.arrival = array("d")
        self.handled = array("d")
        self.received = 0
        self.closed = 0
        self.failed = 0
        self.connecting = 0
        self.ready = 0
        self.last_receive = 0.0

    # -- connections ---------------------------------------------------------------------------
    def open(self, kind: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.bind((self.source_ip, 0))
        sock.setblocking(False)
        sock.connect_ex(self.addr)
        listener = Listener(sock, kind)
        self.listeners.append(listener)
        self.connecting += 1
        self.sel.register(sock, selectors.EVENT_WRITE, listener)

    def _became_ready(self, listener: Listener) -> None:
        listener.ready = True
        self.connecting -= 1
        self.ready += 1

    def _connected(self, listener: Listener) -> None:
        error = listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self._drop(listener, failed=True)
            return
        listener.sock.send(self.sse_request if listener.kind == "sse" else self.ws_request)
        self.sel.modify(listener.sock, selectors.EVENT_READ, listener)

    def _drop(self, listener: Listener, *, failed: bool = False) -> None:
        self.sel.unregister(listener.sock)
        listener.sock.close()
        if listener.ready:
            self.ready -= 1
        else:
            self.connecting -= 1
        if failed:
            self.failed += 1
        else:
            self.closed += 1

    # -- reading -------------------------------------------------------------------------------
    def _readable(self, listener: Listener) -> None:
        try:
            data, ancillary, _, _ = listener.sock.recvmsg(262144, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        now = time.time()
        arrived = now
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = struct.unpack("qq", value[:16])
                arrived = seconds + nanoseconds / 1e9
        if not data:
            self._drop(listener)
            return
        if not listener.head_done:
            listener.buf += data
            end = listener.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, rest = bytes(listener.buf[:end]), bytes(listener.buf[end + 4 :])
            listener.buf.clear()
            listener.head_done = True
            if not (head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.1 101")):
                self._drop(listener, failed=True)
                return
            if listener.kind == "ws":
                listener.sock.send(self.ws_subscribe)
            else:
                self._became_ready(listener)
            data = rest
            if not data:
                return
        if listener.kind == "sse":
            listener.tail = self._scan(listener.tail + data, arrived, now)
        else:
            self._frames(listener, data, arrived, now)

    def _scan(self, buf: bytes, arrived: float, now: float) -> bytes:
        """Record a latency per marker; return what may hold an incomplete one."""
        pos = 0
        while True:
            start = buf.find(MARKER, pos)
            if start < 0:
                return buf[-(len(MARKER) - 1) :]
            end = buf.find(b",", start)
            if end < 0:
                return buf[start:]
            sent = float(buf[start + len(MARKER) : end])
            self.arrival.append(arrived - sent)
            self.handled.append(now - sent)
            self.received += 1
            self.last_receive = max(self.last_receive, arrived)
            pos = end

    def _frames(self, listener: Listener, data: bytes, arrived: float, now: float) -> None:
        buf = listener.buf
        buf += data
        while len(buf) >= 2:
            opcode, length = buf[0] & 0x0F, buf[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buf) < 4:
                    return
                (length,) = struct.unpack_from("!H", buf, 2)
                offset = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                (length,) = struct.unpack_from("!Q", buf, 2)
                offset = 10
            if len(buf) < offset + length:
                return
            payload = bytes(buf[offset : offset + length])
            del buf[: offset + length]
            if opcode == 0x1:
                if not listener.ready and b'"ack"' in payload:
                    self._became_ready(listener)
                self._scan(payload, arrived, now)
            elif opcode == 0x9:
                listener.sock.send(masked_frame(0xA, payload))
            elif opcode == 0x8:
                self._drop(listener)
                return

    # -- loop ----------------------------------------------------------------------------------
    def run(self, pipe: Connection, sse: int, ws: int) -> None:
        kinds = ["sse"] * sse + ["ws"] * ws
        while True:
            while kinds and self.connecting < CONNECTS_IN_FLIGHT:
                self.open(kinds.pop())
            for key, mask in self.sel.select(timeout=0.02):
                listener = key.data
                if mask & selectors.EVENT_WRITE:
                    self._connected(listener)
                else:
                    self._readable(listener)
            if pipe.poll():
                command = pipe.recv()
                if command == "stop":
                    for listener in self.listeners:
                        listener.sock.close()
                    return
                pipe.send(self.collect() if command == "collect" else self.counts())

    def counts(self) -> dict[str, Any]:
        return {"ready": self.ready, "received": self.received, "closed": self.closed, "failed": self.failed}

    def collect(self) -> dict[str, Any]:
        """Latencies since the last collect, and when the last event arrived; then start afresh."""
        result = {
            **self.counts(),
            "last_receive": self.last_receive,
            "arrival": self.arrival.tobytes(),
            "handled": self.handled.tobytes(),
        }
        self.arrival = array("d")
        self.handled = array("d")
        self.received = 0
        return result


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: clients must mask (RFC 6455 §5.3)."""
    mask = os.urandom(4)
    body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    length = len(payload)
    header = (
        struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        if length < 126
        else struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    )
    return header + mask + body


def load_process(
    pipe: Connection, host: str, port: int, source_ip: str, sse: int, ws: int, cpu: int | None
) -> None:
    """Entry point of one load-generator process."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    LoadProcess(host, port, source_ip, "/api/v1/events?channels=system", ["system"]).run(pipe, sse, ws)

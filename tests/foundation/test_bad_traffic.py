"""Traffic a well-behaved client never sends, against ``robian-media serve`` in its own process, without
nginx in front: malformed requests, and clients that trickle their request (slow loris)."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RUN_ID
from tests.services import ServerProcess, server_env

HEAD_TIMEOUT_S = 2.0
BODY_GRACE_S = 1.0

MALFORMED = [
    # a header line ending in a bare LF
    b"GET /health HTTP/1.1\r\nHost: x\nX-Bad: 1\r\n\r\n",
    # a garbage request line
    b"\x16\x03\x01 garbage\r\n\r\n",
]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str
) -> Iterator[ServerProcess]:
    work: Path = tmp_path_factory.mktemp("bad-traffic")
    env = server_env(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"robian-test:{RUN_ID}:bad-{uuid.uuid4().hex[:6]}:",
        data_dir=str(work / "data"),
        workers="0",
        rate_limit_per_minute="0",
        log_level="INFO",
        log_json="true",
        # short bounds, so the tests wait seconds rather than the defaults' 15 s
        request_head_timeout_seconds=str(HEAD_TIMEOUT_S),
        request_body_grace_seconds=str(BODY_GRACE_S),
        request_body_min_bytes_per_second="100",
    )
    server = ServerProcess(env, work / "server.log").start()
    yield server
    assert server.stop() == 0, server.output()[-3000:]


def send_raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def log_lines(server: ServerProcess) -> list[dict[str, object]]:
    lines = []
    for line in server.output().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"raw": line})
    return lines


def malformed_count(server: ServerProcess) -> float:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("robian_http_requests_total{") and 'route="malformed"' in line
    )


@pytest.mark.parametrize("request_bytes", MALFORMED, ids=["bare-lf-header", "garbage-request-line"])
def test_a_malformed_request_is_refused_logged_and_counted(
    server: ServerProcess, request_bytes: bytes
) -> None:
    before = malformed_count(server)
    answer = send_raw(server.port, request_bytes)
    assert answer.split(b" ", 2)[1] == b"400", answer[:200]
    deadline = time.monotonic() + 5
    while malformed_count(server) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert malformed_count(server) == before + 1
    lines = log_lines(server)
    assert not [line for line in lines if "Unhandled exception" in json.dumps(line)], server.output()[-3000:]
    logged = [line for line in lines if line.get("msg") == "request" and line.get("route") == "malformed"]
    assert logged and logged[-1]["status"] == 400


def trickle(sock: socket.socket, data: bytes, every: float, until: float) -> bytes:
    """Send ``data`` a byte at a time; returns what the server answered once it answered or closed."""
    sock.settimeout(every)
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # closed by the server
            break
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            if time.monotonic() > until:
                break
            continue
        return answer
    sock.settimeout(max(0.1, until - time.monotonic()))
    try:
        return sock.recv(65536)
    except TimeoutError:
        return b"<still open>"


def test_a_trickled_request_head_is_cut_off(server: ServerProcess) -> None:
    head = b"GET /api/v1/debates HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        started = time.monotonic()
        answer = trickle(sock, head, every=0.2, until=started + 4 * HEAD_TIMEOUT_S)
        held = time.monotonic() - started
    assert answer == b"", f"the connection was still open after {held:.1f} s: {answer[:100]!r}"
    assert held < HEAD_TIMEOUT_S + 1.5


def test_a_trickled_body_gets_a_408(server: ServerProcess) -> None:
    body = json.dumps({"name": "x" * 500}).encode()
    head = (
        b"POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        started = time.monotonic()
        answer = trickle(sock, body, every=0.1, until=started + 10)
        held = time.monotonic() - started
    assert answer.split(b" ", 2)[1] == b"408", answer[:300]
    assert b"application/problem+json" in answer
    # 1 s of grace, then 100 bytes per second: ten bytes a second fall behind at once
    assert held < BODY_GRACE_S + 1.5


def test_a_body_at_a_normal_pace_and_a_keep_alive_pause_are_fine(server: ServerProcess) -> None:
    body = json.dumps({"platform": "web"}).encode()
    request = (
        b"POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        time.sleep(BODY_GRACE_S / 2)  # a pause within the grace
        sock.sendall(body)
        answer = sock.recv(65536)
        assert answer.split(b" ", 2)[1] == b"201", answer[:300]
        time.sleep(HEAD_TIMEOUT_S / 2)  # idle between requests, within the bound
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).split(b" ", 2)[1] == b"200"


def test_an_event_stream_outlives_the_head_timeout(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /api/v1/events?channels=debates HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).split(b" ", 2)[1] == b"200"
        time.sleep(2 * HEAD_TIMEOUT_S)
        sock.settimeout(0.5)
        try:
            closed = sock.recv(65536) == b""
        except TimeoutError:
            closed = False  # nothing to read, and still open
    assert not closed

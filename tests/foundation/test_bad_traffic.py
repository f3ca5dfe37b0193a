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

"""The security pass of docs/hardening.md, against real processes.

- ingest's SSRF refusals hold when the request comes through nginx (with forged forwarding headers);
- neither tokens nor the database password ever reach the logs, whatever the request;
- admin tokens are compared in constant time (hmac.compare_digest) and device tokens are only ever
  looked up by their sha256: see robian_media/web/openapi.py and web/device_auth.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, RUN_ID
from tests.edge.hls_media import HlsMedia
from tests.services import ServerProcess, server_env


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@pytest.fixture
def strict_server(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """Production-like: private addresses refused, behind nginx, JSON logs at INFO."""
    server = ServerProcess(
        server_env(
            database_url=database_url,
            redis_url=redis_url,
            redis_prefix=f"robian-test:{RUN_ID}:sec-{uuid.uuid4().hex[:6]}:",
            data_dir=str(tmp_path / "data"),
            admin_token=ADMIN_TOKEN,
            workers="0",
            behind_nginx="true",
            log_json="true",
            log_level="INFO",
        ),
        tmp_path / "server.log",
    ).start()
    yield server
    server.stop()


SSRF_SOURCES = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::ffff:169.254.169.254]/latest/", "link-local"),
    ("http://2130706433/a.m4a", "loopback"),
    ("http://0x7f.1/a.m4a", "loopback"),
    ("http://localhost:{nginx_port}/hls/x/master.m3u8", "loopback"),
    ("http://10.1.2.3/a.m4a", "private"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme"),
]


@pytest.mark.parametrize(("source_url", "reason"), SSRF_SOURCES)
def test_ssrf_refusals_hold_through_nginx(
    strict_server: ServerProcess, start_nginx: Any, hls_media: HlsMedia, source_url: str, reason: str
) -> None:
    nginx = start_nginx(hls_media, strict_server.port)
    url = source_url.format(nginx_port=nginx.origin.rsplit(":", 1)[1])
    forged = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Host": "localhost"}
    status, problem = call(
        "POST",
        f"{nginx.origin}/api/v1/ingest",
        {"source_url": url},
        {"Authorization": f"Bearer {ADMIN_TOKEN}", **forged},
    )
    assert status == 422, problem
    assert problem["errors"][0]["location"] == "body.source_url"
    assert reason in problem["detail"], problem["detail"]
    # and without the admin token nginx passes the refusal through as it is: 401
    assert call("POST", f"{nginx.origin}/api/v1/ingest", {"source_url": url}, forged)[0] == 401


def test_tokens_and_passwords_never_reach_the_logs(database_url: str, redis_url: str, tmp_path: Path) -> None:
    password = "db-secret-" + uuid.uuid4().hex[:8]  # trust authentication ignores it; the logs must too
    dsn = database_url.replace("postgres@", f"postgres:{password}@", 1)
    assert password in dsn
    server = ServerProcess(
        server_env(
            database_url=dsn,
            redis_url=redis_url,
            redis_prefix=f"robian-test:{RUN_ID}:sec-{uuid.uuid4().hex[:6]}:",
            data_dir=str(tmp_path / "data"),
            admin_token=ADMIN_TOKEN,
            workers="0",
            log_json="true",
            log_level="DEBUG",
        ),
        tmp_path / "server.log",
    ).start()
    try:
        status, device = call("POST", f"{server.url}/api/v1/devices", {})
        assert status == 201
        token = device["token"]
        wrong = "wrong-" + uuid.uuid4().hex
        for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {wrong}"}):
            call("GET", f"{server.url}/api/v1/devices/me", headers=headers)
            call("GET", f"{server.url}/api/v1/favorites?access_token={token}", headers=headers)
        call("GET", f"{server.url}/api/v1/events?channels=system&access_token={token}&last_event_id=x")
        for admin in (ADMIN_TOKEN, wrong):
            call(
                "POST",
                f"{server.url}/api/v1/ingest",
                {"source_url": "ftp://x/y"},
                {"Authorization": f"Bearer {admin}"},
            )
        call("DELETE", f"{server.url}/api/v1/devices/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        server.stop()
    log = server.output()
    assert "request" in log  # the access log was written
    for secret in (token, token.split("_", 1)[-1], wrong, ADMIN_TOKEN, password):
        assert secret not in log, f"{secret[:12]}… is in the log"

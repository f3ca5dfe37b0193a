"""CORS for browser clients and security headers on API answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robian_media.app import create_app
from robian_media.settings import Settings

ClientFactory = Callable[..., Any]
PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"}


async def test_security_headers_on_answers_and_problems(client: Any) -> None:
    for path in ("/api/v1/speakers", "/api/v1/debates/nope", "/health"):
        resp = await client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    docs = await client.get("/api/docs")
    # Swagger UI runs our scripts only, and "Try it out" may call this origin only (issue #22, item 7)
    policy = docs.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy.split("; "), policy


async def test_any_origin_by_default(client: Any) -> None:
    resp = await client.get("/api/v1/speakers", headers={"Origin": "https://app.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in resp.headers["Access-Control-Expose-Headers"]
    assert "Vary" not in resp.headers

    preflight = await client.options(
        "/api/v1/debates", headers={"Origin": "https://app.example", **PREFLIGHT}
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Max-Age"] == "86400"


async def test_configured_origins_only(
    aiohttp_client: ClientFactory, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(
        create_app(make_settings(cors_origins="https://app.example,https://web.example"))
    )
    allowed = await client.get("/api/v1/speakers", headers={"Origin": "https://web.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://web.example"
    assert allowed.headers["Vary"] == "Origin"
    other = await client.get("/api/v1/speakers", headers={"Origin": "https://evil.example"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers

    refused = await client.options("/api/v1/debates", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert refused.status == 403 and refused.content_type == "application/problem+json"
    ok = await client.options("/api/v1/debates", headers={"Origin": "https://app.example", **PREFLIGHT})
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example"

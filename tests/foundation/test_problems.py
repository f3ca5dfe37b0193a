"""Every error reaches the client as RFC 9457 problem+json, never with internals."""

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web.openapi import operation
from tests.conftest import ADMIN_TOKEN


class Echo(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(ge=0, le=10)


@operation(summary="echo", tags=["test"], body=Echo, admin=True)
async def echo(request: web.Request, *, body: Echo) -> web.Response:
    return web.json_response(body.model_dump())


async def explode(request: web.Request) -> web.Response:
    raise RuntimeError("password=hunter2 in a stack trace")


async def make_client(aiohttp_client: Any, settings: Settings) -> Any:
    app = create_app(settings)
    app.router.add_post("/test/echo", echo)
    app.router.add_get("/test/explode", explode)
    return await aiohttp_client(app)


def assert_problem(resp: Any, body: dict[str, Any], status: int) -> None:
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()


async def test_unknown_path_is_a_404_problem(client: Any) -> None:
    resp = await client.get("/api/v1/nothing-here")
    body = await resp.json(content_type=None)
    assert_problem(resp, body, 404)
    assert body["instance"] == "/api/v1/nothing-here"


async def test_wrong_method_is_a_405_problem_with_allow(client: Any) -> None:
    resp = await client.delete("/health")
    assert_problem(resp, await resp.json(content_type=None), 405)
    assert "GET" in resp.headers["Allow"]


async def test_validation_errors_name_each_field(aiohttp_client: Any, settings: Settings) -> None:
    client = await make_client(aiohttp_client, settings)
    resp = await client.post(
        "/test/echo", json={"name": "", "count": 99}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    body = await resp.json(content_type=None)
    assert_problem(resp, body, 422)
    assert {e["location"] for e in body["errors"]} == {"body.name", "body.count"}


async def test_malformed_json_is_a_400(aiohttp_client: Any, settings: Settings) -> None:
    client = await make_client(aiohttp_client, settings)
    resp = await client.post(
        "/test/echo",
        data=b"{not json",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    body = await resp.json(content_type=None)
    assert_problem(resp, body, 400)
    assert "JSON" in body["detail"]


async def test_deeply_nested_json_is_a_422(aiohttp_client: Any, settings: Settings) -> None:
    """``[`` × 3000 was a 500 with a RecursionError traceback (issue #22, item 8)."""
    client = await make_client(aiohttp_client, settings)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    for raw in (b"[" * 3000, b"[" * 900 + b"]" * 900, b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}"):
        resp = await client.post("/test/echo", data=raw, headers=headers)
        body = await resp.json(content_type=None)
        assert_problem(resp, body, 422)
        assert "nested deeper than 32 levels" in body["detail"]


async def test_oversized_body_is_a_413(aiohttp_client: Any, make_settings: Any) -> None:
    client = await make_client(aiohttp_client, make_settings(max_body_bytes=2048))
    resp = await client.post(
        "/test/echo",
        data=b"x" * 10_000,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    assert_problem(resp, await resp.json(content_type=None), 413)


async def test_admin_routes_refuse_missing_or_wrong_token(aiohttp_client: Any, settings: Settings) -> None:
    client = await make_client(aiohttp_client, settings)
    missing = await client.post("/test/echo", json={"name": "a", "count": 1})
    assert_problem(missing, await missing.json(content_type=None), 401)
    wrong = await client.post(
        "/test/echo", json={"name": "a", "count": 1}, headers={"Authorization": "Bearer nope"}
    )
    assert_problem(wrong, await wrong.json(content_type=None), 401)
    ok = await client.post(
        "/test/echo", json={"name": "a", "count": 1}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert ok.status == 200


async def test_crash_is_a_500_problem_without_internals(aiohttp_client: Any, settings: Settings) -> None:
    client = await make_client(aiohttp_client, settings)
    resp = await client.get("/test/explode")
    text = await resp.text()
    assert resp.status == 500
    assert resp.content_type == "application/problem+json"
    assert "hunter2" not in text and "Traceback" not in text

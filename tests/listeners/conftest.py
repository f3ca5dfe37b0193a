from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import create_debate


@dataclass
class Reply:
    status: int
    body: Any
    content_type: str
    headers: dict[str, str]


async def reply(resp: Any) -> Reply:
    body = await resp.json(content_type=None) if resp.status != 204 else None
    return Reply(resp.status, body, resp.content_type, dict(resp.headers))


@dataclass
class Device:
    """A registered device talking to the server with its own bearer token."""

    client: TestClient[Any, Any]
    device_id: str
    owner_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return await reply(await self.client.request(method, path, headers=self.headers, **kwargs))

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """Call and insist on ``status``; the JSON body."""
        got = await self.call(method, path, **kwargs)
        assert got.status == status, got.body
        return got.body


async def register(client: TestClient[Any, Any]) -> Device:
    resp = await client.post("/api/v1/devices")
    body = await resp.json()
    assert resp.status == 201, body
    return Device(client, body["device_id"], body["owner_id"], body["token"])


@pytest.fixture
def new_device(client: TestClient[Any, Any]) -> Callable[[], Awaitable[Device]]:
    return lambda: register(client)


@pytest.fixture
def make_debate(db: asyncpg.Connection) -> Callable[..., Awaitable[UUID]]:
    async def make(**fields: Any) -> UUID:
        return await create_debate(db, **fields)

    return make


def assert_problem(got: Reply, expected: int) -> None:
    assert got.status == expected, got.body
    assert got.content_type == "application/problem+json"
    assert got.body["status"] == expected
    assert {"type", "title", "detail", "instance"} <= got.body.keys()

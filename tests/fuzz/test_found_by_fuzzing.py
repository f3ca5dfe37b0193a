"""What the API fuzzing found, kept as plain regression tests (each was a 500 or an undocumented answer)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/debats?commission=%00",  # was 500: PostgreSQL refuses NUL in text
        "/api/v1/search/suggestions?q=ab%00",
        "/api/v1/debates?q=%00",
    ],
)
async def test_text_the_database_cannot_store_is_refused_in_queries(client: Any, path: str) -> None:
    body = await assert_problem(await client.get(path), 422)
    assert body["errors"][0]["location"].startswith("query.")


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
async def test_text_the_database_cannot_store_is_refused_in_bodies(client: Any, bad: str) -> None:
    payload = json.dumps({"source_url": f"http://127.0.0.1/{bad}.m4a", "title": "ok"})  # ASCII escapes
    response = await client.post(
        "/api/v1/ingest", data=payload, headers={**AUTH, "Content-Type": "application/json"}
    )
    body = await assert_problem(response, 422)
    assert [e["location"] for e in body["errors"]] == ["body.source_url"]


@pytest.mark.parametrize("day", ["1700000000", "-3.1e-177", "2026-3-1"])
async def test_a_day_is_written_yyyy_mm_dd_only(client: Any, day: str) -> None:
    # pydantic alone read a number as a Unix time and answered 200 for 1970-01-01
    for path in (f"/api/programme?date_param={day}", f"/api/v1/debates?date_from={day}"):
        await assert_problem(await client.get(path), 422)


@pytest.mark.parametrize("path", ["/api/v1/ingest", "/api/v1/favorites"])
async def test_a_token_that_is_not_utf8_is_a_401_not_a_crash(client: Any, path: str) -> None:
    method = "POST" if path.endswith("ingest") else "GET"
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n".encode()
        + b"Content-Type: application/json\r\nAuthorization: Bearer \xff\xfe\xc3(\r\n"
        + b"Connection: close\r\n\r\n{}"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert head.startswith(b"HTTP/1.1 401"), head[:300]
    assert b"application/problem+json" in head


@pytest.mark.parametrize("path", ["/api/v1/debates?status=,", "/api/v1/search?q=loi&kind=,"])
async def test_a_list_of_nothing_is_refused(client: Any, path: str) -> None:
    await assert_problem(await client.get(path), 422)


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:00-01:00"])
async def test_an_instant_out_of_range_in_utc_is_refused(client: Any, instant: str) -> None:
    # was a 500: the database driver cannot encode year 0 or 10000
    response = await client.post(
        "/api/v1/ingest", json={"source_url": "http://127.0.0.1/a.m4a", "starts_at": instant}, headers=AUTH
    )
    body = await assert_problem(response, 422)
    assert [e["location"] for e in body["errors"]] == ["body.starts_at"]


async def test_an_ingest_start_time_is_iso_text_not_a_number(client: Any) -> None:
    response = await client.post(
        "/api/v1/ingest", json={"source_url": "http://127.0.0.1/a.m4a", "starts_at": 0}, headers=AUTH
    )
    body = await assert_problem(response, 422)
    assert [e["location"] for e in body["errors"]] == ["body.starts_at"]

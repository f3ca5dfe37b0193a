"""Every invalid query parameter is refused with a 422 problem naming it."""

from __future__ import annotations

from typing import Any

import pytest

from robian_media.web.cursor import encode_cursor

CASES = [
    ("/api/v1/debates", {"limit": "0"}, {"query.limit"}),
    ("/api/v1/debates", {"limit": "101"}, {"query.limit"}),
    ("/api/v1/debates", {"limit": "ten"}, {"query.limit"}),
    ("/api/v1/debates", {"date_from": "10/03/2026"}, {"query.date_from"}),
    ("/api/v1/debates", {"date_to": "2026-02-30"}, {"query.date_to"}),
    ("/api/v1/debates", {"date_from": "2026-03-10", "date_to": "2026-03-01"}, {"query.date_to"}),
    ("/api/v1/debates", {"status": "published,archived"}, {"query.status.1"}),
    ("/api/v1/debates", {"cursor": "not-a-cursor"}, {"query.cursor"}),
    ("/api/v1/debates", {"cursor": encode_cursor("yesterday", "x")}, {"query.cursor"}),
    ("/api/v1/debates", {"q": "x" * 201}, {"query.q"}),
    (
        "/api/v1/debates",
        {"limit": "-1", "date_from": "soon", "status": "nope", "cursor": "%%%"},
        {"query.limit", "query.date_from", "query.status.0", "query.cursor"},
    ),
    ("/api/v1/speakers", {"limit": "1000", "cursor": encode_cursor(1)}, {"query.limit", "query.cursor"}),
    ("/api/v1/speakers/PA1/interventions", {"limit": "0"}, {"query.limit"}),
    ("/api/v1/programme", {"date": "tomorrow"}, {"query.date"}),
    ("/api/v1/search", {}, {"query.q"}),
    ("/api/v1/search", {"q": "  "}, {"query.q"}),
    ("/api/v1/search", {"q": "budget", "kind": "deputy", "limit": "51"}, {"query.kind.0", "query.limit"}),
    ("/api/v1/search", {"q": "budget", "cursor": encode_cursor(5000)}, {"query.cursor"}),
    ("/api/v1/search/suggestions", {"q": "x" * 101}, {"query.q"}),
    (
        "/api/debats",
        {"date_debut": "hier", "type_debat": "pleniere", "limit": "0"},
        {"query.date_debut", "query.type_debat", "query.limit"},
    ),
    ("/api/programme", {"date_param": "2026-13-01"}, {"query.date_param"}),
]


@pytest.mark.parametrize(("path", "params", "named"), CASES)
async def test_invalid_parameters_are_named(
    client: Any, path: str, params: dict[str, str], named: set[str]
) -> None:
    resp = await client.get(path, params=params)
    body = await resp.json(content_type=None)
    assert resp.status == 422, body
    assert resp.content_type == "application/problem+json"
    assert {error["location"] for error in body["errors"]} == named
    assert all(error["message"] for error in body["errors"])


async def test_unknown_and_blank_parameters_are_ignored(client: Any) -> None:
    resp = await client.get("/api/v1/debates", params={"_": "1712345678", "chamber": "", "limit": "5"})
    assert resp.status == 200

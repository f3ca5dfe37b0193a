"""Stats against a known fixture, in a database of their own (other tests' rows would count too)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from robian_media.app import create_app
from tests.factories import connect, create_debate, create_speaker, migrated_database
from tests.listeners.conftest import Device, assert_problem, register, reply


@pytest.fixture
def stats_database_url(pg_admin_dsn: str) -> Iterator[str]:
    with migrated_database(pg_admin_dsn, f"robian_stats_{uuid.uuid4().hex[:8]}") as dsn:
        yield dsn


@pytest.fixture
async def stats_db(stats_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(stats_database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def stats_client(aiohttp_client: Any, make_settings: Any, stats_database_url: str) -> Any:
    return await aiohttp_client(create_app(make_settings(database_url=stats_database_url)))


def session(end: datetime, steps: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Writes (minutes after the start, position) of one sitting's listening, ending near ``end``,
    kept within one UTC day so the count of plays does not depend on the time the test runs."""
    span = timedelta(minutes=steps[-1][0])
    start = end - span
    if start.date() != end.date():
        start = end.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        {"position": position, "updated_at": (start + timedelta(minutes=minutes)).isoformat()}
        for minutes, position in steps
    ]


async def listen(device: Device, debate: uuid.UUID, writes: list[dict[str, Any]]) -> None:
    for body in writes:
        await device.ok("PUT", f"/api/v1/progress/{debate}", json=body)


async def test_global_and_trending_stats_match_the_fixture(
    stats_client: Any, stats_db: asyncpg.Connection
) -> None:
    for name in ("Mme A", "M. B", "Mme C"):
        await create_speaker(stats_db, name)
    d1 = await create_debate(stats_db, duration=3600)
    d2 = await create_debate(stats_db, duration=5400)
    d3 = await create_debate(stats_db, duration=1800)
    await create_debate(stats_db, duration=None, status="pending", version=None)
    x, y, z, w = [await register(stats_client) for _ in range(4)]
    now = datetime.now(UTC)

    # x: d1 three hours ago, 600 + 500 s of listening
    x_d1 = session(now - timedelta(hours=3), [(0, 0), (10, 600), (20, 1100)])
    await listen(x, d1, x_d1)
    # y: d1 just now (30 s); d2 two days ago, a seek of 2000 s in 10 min counts as 1800 s (3x speed)
    y_d1 = session(now, [(0, 100), (0.5, 130)])
    await listen(y, d1, y_d1)
    y_d2 = session(now - timedelta(days=2), [(0, 0), (10, 2000)])
    await listen(y, d2, y_d2)
    # z: d2 two hours ago (300 s), sent as an offline batch twice; d3 just now (a play, no time)
    z_d2 = session(now - timedelta(hours=2), [(0, 0), (5, 300)])
    batch = {"items": [{"debate_id": str(d2), **body} for body in z_d2]}
    await z.ok("POST", "/api/v1/progress/batch", json=batch)
    await z.ok("POST", "/api/v1/progress/batch", json=batch)
    z_d3 = session(now - timedelta(seconds=30), [(0, 10)])
    await listen(z, d3, z_d3)
    # w: d1 an hour ago, a single write
    w_d1 = session(now - timedelta(hours=1), [(0, 60)])
    await listen(w, d1, w_d1)

    plays = [x_d1[0], y_d1[0], y_d2[0], z_d2[0], z_d3[0], w_d1[0]]
    today = datetime.now(UTC).date()
    plays_today = sum(1 for p in plays if datetime.fromisoformat(p["updated_at"]).date() == today)

    got = await reply(await stats_client.get("/api/v1/stats/global"))
    assert got.status == 200
    assert got.headers["Cache-Control"] == "public, max-age=30"
    assert {k: got.body[k] for k in ("debates", "hours_packaged", "speakers", "plays_today")} == {
        "debates": 3,
        "hours_packaged": 3.0,
        "speakers": 3,
        "plays_today": plays_today,
    }
    assert got.body["listeners_now"] == 2  # y and z wrote within the last 5 minutes
    assert got.body["listeners_window_s"] == 300

    async def ranking(window: str, rank_by: str) -> list[tuple[str, int, float]]:
        page = await stats_client.get("/api/v1/stats/trending", params={"window": window, "rank_by": rank_by})
        assert page.status == 200
        body = await page.json()
        assert body["window"] == window and body["rank_by"] == rank_by
        return [(i["debate"]["id"], i["plays"], i["listening_seconds"]) for i in body["items"]]

    day = [(str(d1), 3, 1130.0), (str(d2), 1, 300.0), (str(d3), 1, 0.0)]
    assert await ranking("24h", "plays") == day
    assert await ranking("24h", "time") == day
    week = {str(d1): (3, 1130.0), str(d2): (2, 2100.0), str(d3): (1, 0.0)}
    assert await ranking("7d", "plays") == [(d, *week[d]) for d in (str(d1), str(d2), str(d3))]
    assert await ranking("7d", "time") == [(d, *week[d]) for d in (str(d2), str(d1), str(d3))]


async def test_stats_are_served_from_the_cache_within_their_ttl(
    stats_client: Any, stats_db: asyncpg.Connection
) -> None:
    debate = await create_debate(stats_db)
    device = await register(stats_client)
    before = await (await stats_client.get("/api/v1/stats/global")).json()
    await device.ok(
        "PUT", f"/api/v1/progress/{debate}", json={"position": 1, "updated_at": datetime.now(UTC).isoformat()}
    )
    cached = await (await stats_client.get("/api/v1/stats/global")).json()
    assert cached == before and cached["listeners_now"] == 0


async def test_bad_trending_parameters_are_a_422(client: Any) -> None:
    for params in ({"window": "1y"}, {"rank_by": "likes"}, {"limit": "0"}):
        got = await reply(await client.get("/api/v1/stats/trending", params=params))
        assert_problem(got, 422)

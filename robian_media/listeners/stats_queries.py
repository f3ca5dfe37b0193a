"""Global and trending stats, read from the catalogue and the hourly play rollup (never progress scans).

Every read here is served through the stats cache, so each runs at most once per TTL per key.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel

TrendingWindow = Literal["24h", "7d"]
TrendingRank = Literal["plays", "time"]

WINDOW_HOURS: dict[TrendingWindow, int] = {"24h": 24, "7d": 24 * 7}


class GlobalCounts(BaseModel):
    debates: int
    hours_packaged: float
    speakers: int
    listeners_now: int
    plays_today: int


class DebatePlays(BaseModel):
    debate_id: UUID
    plays: int
    seconds: float


# listeners now: accepted progress writes (index on server_updated_at) whose own time is recent too,
# so an offline backlog synced now does not count as listening now
SELECT_GLOBAL = """
SELECT
    (SELECT count(*) FROM debates WHERE status = 'published') AS debates,
    (SELECT coalesce(sum(coalesce(d.duration, r.duration)), 0) / 3600.0
       FROM debates d
       LEFT JOIN renditions r ON r.debate_id = d.id AND r.version = d.current_version
      WHERE d.status = 'published') AS hours_packaged,
    (SELECT count(*) FROM speakers) AS speakers,
    (SELECT count(DISTINCT owner_id) FROM progress
      WHERE server_updated_at > now() - make_interval(secs => $1)
        AND client_updated_at > now() - make_interval(secs => $1)) AS listeners_now,
    (SELECT coalesce(sum(plays), 0) FROM plays_hourly
      WHERE hour >= date_trunc('day', now(), 'UTC')) AS plays_today
"""

# the window is the current UTC hour and the hours before it, whole buckets
_TRENDING = """
SELECT debate_id, sum(plays)::bigint AS plays, sum(seconds) AS seconds
FROM plays_hourly
WHERE hour >= date_trunc('hour', now(), 'UTC') - make_interval(hours => $1 - 1)
GROUP BY debate_id
ORDER BY {order}, debate_id
LIMIT $2
"""
SELECT_TRENDING: dict[TrendingRank, str] = {
    "plays": _TRENDING.format(order="plays DESC, seconds DESC"),
    "time": _TRENDING.format(order="seconds DESC, plays DESC"),
}


async def global_counts(conn: asyncpg.Connection, *, listeners_window_s: int) -> GlobalCounts:
    row = await conn.fetchrow(SELECT_GLOBAL, float(listeners_window_s))
    return GlobalCounts.model_validate(dict(row))


async def trending(
    conn: asyncpg.Connection, *, window: TrendingWindow, rank_by: TrendingRank, limit: int
) -> list[DebatePlays]:
    rows = await conn.fetch(SELECT_TRENDING[rank_by], WINDOW_HOURS[window], limit)
    return [DebatePlays.model_validate(dict(row)) for row in rows]

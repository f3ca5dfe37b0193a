"""Play rollups written alongside progress: who played what on which day, and hourly totals.

A play is the first progress write of an owner for a debate in a UTC day; listening seconds are
the forward movement of the stored position, capped by the time between the two writes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg

# faster playback than this is not listening but seeking
MAX_PLAYBACK_SPEED = 3.0

RECORD_PLAYS = """
INSERT INTO owner_plays (owner_id, debate_id, day)
SELECT $1, debate_id, day FROM unnest($2::uuid[], $3::date[]) AS played (debate_id, day)
ON CONFLICT DO NOTHING
RETURNING debate_id, day
"""

# sorted input: concurrent writers lock the shared hourly rows in one order (no deadlock)
ADD_TO_HOURS = """
INSERT INTO plays_hourly (debate_id, hour, plays, seconds)
SELECT debate_id, hour, plays, seconds
FROM unnest($1::uuid[], $2::timestamptz[], $3::integer[], $4::float8[]) AS t (debate_id, hour, plays, seconds)
ORDER BY debate_id, hour
ON CONFLICT (debate_id, hour) DO UPDATE
SET plays = plays_hourly.plays + EXCLUDED.plays, seconds = plays_hourly.seconds + EXCLUDED.seconds
"""

MERGE_OWNER_PLAYS = """
INSERT INTO owner_plays (owner_id, debate_id, day)
SELECT $1, debate_id, day FROM owner_plays WHERE owner_id = $2
ON CONFLICT DO NOTHING
"""


def utc_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def listened_seconds(
    before_position: float, before_at: datetime, after_position: float, after_at: datetime
) -> float:
    elapsed = (after_at - before_at).total_seconds()
    return max(0.0, min(after_position - before_position, elapsed * MAX_PLAYBACK_SPEED))


class PlayTally:
    """What one transaction's progress writes add to the rollups, flushed once at its end."""

    def __init__(self) -> None:
        self._first_write: dict[tuple[UUID, date], datetime] = {}
        self._seconds: dict[tuple[UUID, datetime], float] = defaultdict(float)

    def saw_write(self, debate_id: UUID, at: datetime) -> None:
        key = (debate_id, utc_day(at))
        if key not in self._first_write or at < self._first_write[key]:
            self._first_write[key] = at

    def add_listening(self, debate_id: UUID, at: datetime, seconds: float) -> None:
        if seconds > 0:
            self._seconds[(debate_id, utc_hour(at))] += seconds

    async def flush(self, conn: asyncpg.Connection, owner_id: UUID) -> None:
        plays: dict[tuple[UUID, datetime], int] = defaultdict(int)
        if self._first_write:
            keys = sorted(self._first_write)
            counted = await conn.fetch(RECORD_PLAYS, owner_id, [k[0] for k in keys], [k[1] for k in keys])
            for row in counted:
                plays[(row["debate_id"], utc_hour(self._first_write[(row["debate_id"], row["day"])]))] += 1
        buckets = sorted(set(plays) | set(self._seconds))
        if buckets:
            await conn.execute(
                ADD_TO_HOURS,
                [b[0] for b in buckets],
                [b[1] for b in buckets],
                [plays.get(b, 0) for b in buckets],
                [self._seconds.get(b, 0.0) for b in buckets],
            )


async def merge_owner_plays(conn: asyncpg.Connection, *, into: UUID, absorbed: UUID) -> None:
    await conn.execute(MERGE_OWNER_PLAYS, into, absorbed)

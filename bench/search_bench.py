"""Broad-search benchmark (not a test): what one ``GET /api/v1/search`` costs PostgreSQL over a big
table, ranking every match (as before issue #22) vs a capped candidate set per kind (now).

    python bench/search_bench.py [--chapters 300000] [--rounds 5]

Fills a throw-away database with ``--chapters`` chapters (French-ish titles from a small vocabulary, so
common words match a large share of them), then times, side by side in one run, the search SQL with
no candidate cap and with ``SEARCH_CANDIDATES``, for a broad query of twelve words joined by "or"
(the most the API now accepts; each round uses new words, as an attacker defeating the cache would).
Prints the median milliseconds of each and their ratio (goal: tens of ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from robian_media.catalog.debate_queries import LISTED_STATUSES
from robian_media.catalog.search_queries import SEARCH, SEARCH_CANDIDATES
from robian_media.db.migrate import migrate
from tests.factories import connect, create_debate
from tests.services import fresh_database

WORDS = [
    "budget",
    "article",
    "amendement",
    "ministre",
    "santé",
    "école",
    "travail",
    "retraite",
    "logement",
    "énergie",
    "agriculture",
    "justice",
    "sécurité",
    "transport",
    "culture",
    "défense",
    "commission",
]


async def run(dsn: str, chapters: int, rounds: int) -> None:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        debates = [await create_debate(conn, title=f"Séance {n}") for n in range(max(1, chapters // 500))]
        await conn.execute(
            """
            INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_name, title)
            SELECT ($1::uuid[])[1 + n % array_length($1::uuid[], 1)], n / array_length($1::uuid[], 1),
                   n, n + 60, 'M. Orateur ' || (n % 577),
                   ($2::text[])[1 + n % 17] || ' ' || ($2::text[])[1 + (n / 17) % 17] || ' et '
                   || ($2::text[])[1 + (n / 289) % 17]
            FROM generate_series(0, $3 - 1) AS n
            """,
            debates,
            WORDS,
            chapters,
        )
        await conn.execute("ANALYZE")
        timings: dict[str, list[float]] = {"every match ranked": [], f"{SEARCH_CANDIDATES} candidates": []}
        for round_ in range(rounds):
            query = " or ".join([*WORDS[:6], *(f"zz{round_}x{n}" for n in range(3))][:6]) + " or budget"
            for name, cap in (
                ("every match ranked", None),
                (f"{SEARCH_CANDIDATES} candidates", SEARCH_CANDIDATES),
            ):
                started = time.perf_counter()
                await conn.fetch(
                    SEARCH, query, list(LISTED_STATUSES), ["debate", "chapter", "speaker"], 21, 0, cap
                )
                timings[name].append((time.perf_counter() - started) * 1000)
        for name, values in timings.items():
            each = ", ".join(f"{v:.0f}" for v in values)
            print(f"{name:>22}: median {statistics.median(values):7.1f} ms  ({each})")
        before, after = (statistics.median(v) for v in timings.values())
        print(f"ratio capped / uncapped: {after / before:.3f}  ({chapters} chapters)")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pg = os.environ.get("ROBIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(pg, f"robian_bench_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(run(dsn, args.chapters, args.rounds))


if __name__ == "__main__":
    main()

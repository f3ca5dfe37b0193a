"""Passage search (the words of DESIGN §8) next to the debates search, on the same database, side by side.

    .venv/bin/python bench/passage_search_bench.py [--sittings 1000] [--paragraphs 150] [--rounds 200]

Seeds a throw-away database with ``--sittings`` published debates, each with ``--paragraphs``
paragraphs of synthesised text (about 60 words each, Zipf-distributed over 6 000 made-up words
with real French ones among them at mid and low frequencies) cut into
caption cues by the packager's own rules (packager/captions.py), as publishing stores them. Then runs
the search query of ``GET /api/v1/search`` (catalog/search_queries.py, no response cache) for a set of
queries with ``kind=passage`` and with ``kind=debate``, interleaved, and prints each one's p50 and p95
and the ratio passage/debate. Goal (issue #17): passage p50 ≤ 2 × debates p50.
Needs PostgreSQL (``ROBIAN_BENCH_PG_URL``, default the machine's).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import itertools
import os
import random
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from packager.captions import Cue, build_cues  # noqa: E402
from packager.chapters import Speaker  # noqa: E402
from packager.transcript import Paragraph  # noqa: E402
from robian_media.catalog import search_queries  # noqa: E402
from robian_media.db.migrate import migrate  # noqa: E402
from robian_media.jobs.publish import Transcript, replace_transcript  # noqa: E402
from robian_media.media.urls import MediaUrls  # noqa: E402
from tests.factories import connect, create_debate  # noqa: E402
from tests.services import fresh_database  # noqa: E402

# real words the queries look for, placed among synthesised ones at mid to low frequencies (Zipf)
WORDS = [
    "amendement", "article", "budget", "collectivités", "commission", "crédits", "dépenses", "écologie",
    "école", "emploi", "énergie", "entreprises", "famille", "finances", "formation", "hôpital", "impôt",
    "justice", "logement", "ministre", "négociation", "parlement", "pension", "police", "réforme",
    "région", "retraite", "santé", "sécurité", "services", "soins", "solidarité", "territoires",
    "transition", "université", "vœu", "agriculture", "forêt", "social",
]  # fmt: skip
FILLER = ["le", "la", "les", "de", "des", "du", "et", "en", "à", "pour", "que", "qui", "nous", "ce"]
SYLLABLES = ["ca", "po", "lu", "mi", "ré", "sen", "tar", "vo", "gni", "dé", "ble", "pra", "cou", "fin"]
VOCABULARY_SIZE = 6000
QUERIES = ["hôpital", "retraite réforme", "budget des collectivités", "écologie", "voeu", "logement social"]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Synthesised words with Zipf weights; the real words sit at ranks 50, 150, 250, …"""
    made = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(VOCABULARY_SIZE * 2)}
    words = sorted(made - set(WORDS))[:VOCABULARY_SIZE]
    rng.shuffle(words)
    for number, word in enumerate(WORDS):
        words.insert(50 + 100 * number, word)
    return words, [1 / (rank + 1) for rank in range(len(words))]


def sentence(rng: random.Random, words: list[str], cumulative: list[float]) -> str:
    count = rng.randint(8, 16)
    drawn = rng.choices(words, cum_weights=cumulative, k=count)
    picked = [w if rng.random() < 0.6 else rng.choice(FILLER) for w in drawn]
    return picked[0].capitalize() + " " + " ".join(picked[1:]) + rng.choice([".", ",", " ;", " ?"])


@functools.cache
def _vocabulary() -> tuple[list[str], list[float]]:
    words, weights = vocabulary(random.Random(17))
    return words, list(itertools.accumulate(weights))


def sitting(number: int, paragraphs: int) -> tuple[str, list[Paragraph], list[Cue]]:
    """Sitting ``number``'s title, paragraphs and caption cues (a random stream of its own: any process
    makes the same)."""
    rng = random.Random(f"sitting {number}")
    words, cumulative = _vocabulary()
    title = f"Séance publique n° {number}: {rng.choice(WORDS)} et {rng.choice(WORDS)}"
    made = [
        Paragraph(
            index=k + 1,
            start=30.0 * k,
            end=30.0 * (k + 1),
            speaker=Speaker(id=f"PA{k % 40}", name=f"Député {k % 40}", group="EXDS"),
            text=" ".join(sentence(rng, words, cumulative) for _ in range(5)),
            chapter=None,
        )
        for k in range(paragraphs)
    ]
    return title, made, build_cues(made)


async def seed(dsn: str, sittings: int, paragraphs: int) -> None:
    """Publishes each sitting's words as the app does (replace_transcript), while another process makes
    the next sittings' text and cues (the packager's cue cutting is the slow half)."""
    conn = await connect(dsn)
    try:
        await migrate(conn)
        start = dt.datetime(2026, 1, 5, 14, tzinfo=dt.UTC)
        with ProcessPoolExecutor(1) as maker:
            made = maker.map(sitting, range(sittings), itertools.repeat(paragraphs), chunksize=10)
            for i, (title, words, cues) in enumerate(made):
                async with conn.transaction():
                    starts_at = start + dt.timedelta(hours=7 * i)
                    debate = await create_debate(conn, title=title, starts_at=starts_at)
                    transcript = Transcript(source="request", paragraphs=words, cues=cues)
                    await replace_transcript(conn, debate, 1, transcript)
                if (i + 1) % 100 == 0:
                    print(f"seeded {i + 1}/{sittings}", file=sys.stderr)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def measure(dsn: str, rounds: int) -> dict[str, list[float]]:
    conn = await connect(dsn)
    urls = MediaUrls("http://bench.test")
    times: dict[str, list[float]] = {"passage": [], "debate": []}
    try:
        for number in range(rounds):
            query = QUERIES[number % len(QUERIES)]
            for kind in ("passage", "debate") if number % 2 else ("debate", "passage"):
                began = time.perf_counter()
                await search_queries.search(conn, query, kinds=(kind,), limit=20, offset=0, urls=urls)
                times[kind].append(time.perf_counter() - began)
    finally:
        await conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sittings", type=int, default=1000)
    parser.add_argument("--paragraphs", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    pg = os.environ.get("ROBIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(pg, f"robian_bench_{uuid.uuid4().hex[:8]}") as dsn:
        began = time.monotonic()
        asyncio.run(seed(dsn, args.sittings, args.paragraphs))
        seeded = time.monotonic() - began
        print(f"seeded {args.sittings} sittings × {args.paragraphs} paragraphs in {seeded:.0f} s")
        times = asyncio.run(measure(dsn, args.rounds))
    p50 = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{kind:8} p50 {p50[kind] * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms")
    ratio = p50["passage"] / p50["debate"]
    print(f"passage/debate p50 ratio: {ratio:.2f} (goal ≤ 2.00: {'met' if ratio <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()

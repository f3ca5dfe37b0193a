"""Query plans of the list and search routes on 100 000 debates (not a test): none may scan.

    .venv/bin/python bench/query_plans.py [--debates 100000]

Fills a throw-away database (``ROBIAN_BENCH_PG_URL``, default the machine's) with ``--debates``
debates, one rendition each, three chapters each by 577 speakers and a programme item a day, runs
``ANALYZE``, then ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL behind each list and search route, with
the parameters a client sends (first page, a deep page, each filter). Prints each query's execution
time, the rows its plan read from the big tables, and any sequential scan of a table of more than
10 000 rows (the verdict: ``index`` or ``SCAN``). asyncpg runs every statement prepared, as the
API does; the plan shown is the one of the sixth execution, once PostgreSQL may have switched to a
generic plan.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from robian_media.catalog import debate_queries as dq
from robian_media.catalog import programme_queries as pq
from robian_media.catalog import search_queries as sq
from robian_media.catalog import speaker_queries as spq
from robian_media.db.migrate import migrate
from tests.services import fresh_database

# a sequential scan of a table this small (the 577 deputies) costs less than an index would
SMALL = 10_000
BIG_TABLES = {
    "debates",
    "chapters",
    "renditions",
    "speakers",
    "programme_items",
    "transcript_paragraphs",
    "transcript_search",
}

SEED = """
INSERT INTO speakers (id, name, group_abbrev, group_name)
SELECT 'PA' || i, 'Député ' || md5(i::text), (ARRAY['LFI','RN','EPR','SOC','DR','ECO'])[1 + i % 6],
       'Groupe ' || (i % 6)
FROM generate_series(1, 577) i;

INSERT INTO debates
    (title, chamber, body, starts_at, duration, status, source_url, source_key, current_version)
SELECT 'Séance publique n° ' || i || ' : '
       || (ARRAY['budget','retraites','santé','école','énergie'])[1 + i % 5],
       'AN', (ARRAY['Séance publique','Commission des finances','Commission des lois'])[1 + i % 3],
       timestamptz '2010-01-04 14:00Z' + make_interval(hours => 3 * i), 3600,
       (ARRAY['published','published','published','published','failed','processing'])[1 + i % 6],
       'https://videos.example.test/video.' || i, 'https://videos.example.test/video.' || i, 1
FROM generate_series(1, $1::int) i;

INSERT INTO renditions (debate_id, version, status, duration, variants, published_at)
SELECT id, 1, 'published', 3600, '[{"uri":"a64/index.m3u8","bandwidth":70000}]', now() FROM debates;

INSERT INTO chapters (debate_id, idx, start_s, end_s, speaker_id, speaker_name, title)
SELECT d.id, k, 1200 * k, 1200 * (k + 1), 'PA' || s.n, 'Député ' || md5(s.n::text),
       'Intervention sur '
       || (ARRAY['le budget','la dette','l''hôpital','les retraites','le logement'])[1 + k]
FROM debates d
CROSS JOIN generate_series(0, 2) k
CROSS JOIN LATERAL (SELECT 1 + abs(hashtext(d.id::text || k)) % 577 AS n) s;

INSERT INTO programme_items (agenda_uid, day, starts_at, title, body)
SELECT 'RU' || i, date '2010-01-04' + i, timestamptz '2010-01-04 15:00Z' + make_interval(days => i),
       'Questions au Gouvernement', 'Séance publique'
FROM generate_series(0, $1::int / 8) i;
"""


def queries(speaker: str, deep: dq.DebateKey) -> list[tuple[str, str, tuple[Any, ...]]]:
    statuses = list(dq.LISTED_STATUSES)
    first = dq.FIRST_POSITION
    base = "http://127.0.0.1:8080"

    def page(
        label: str, after: dq.DebateKey | None = None, **filters: Any
    ) -> tuple[str, str, tuple[Any, ...]]:
        sql, arguments = dq.page_statement(
            dq.LIST_DEBATES_JSON, dq.DebateFilters(**filters), 20, after, base=base
        )
        return (f"debates: {label}", sql, arguments)

    def speakers(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        return spq.SPEAKER_FILTERS.statement(spq.LIST_SPEAKERS, filters, after_key="", after_id="", limit=21)

    return [
        page("first page (JSON)"),
        page("page 2 000 (cursor)", deep),
        page("chamber", chamber="AN"),
        page("body", body="commission des lois"),
        page("one day", date_from=dt.date(2020, 6, 2), date_to=dt.date(2020, 6, 2)),
        page("speaker", speaker_id=speaker),
        page("q=retraites", q="retraites"),
        page("failed", statuses=("failed",)),
        ("debate detail", dq.GET_DEBATE, (deep.id,)),
        ("chapters", dq.LIST_CHAPTERS, (deep.id,)),
        ("stream", dq.GET_STREAM, (deep.id,)),
        ("speakers: first page", *speakers({})),
        ("speakers: group", *speakers({"group": "RN"})),
        ("speaker detail", spq.GET_SPEAKER, (speaker,)),
        ("interventions", spq.LIST_INTERVENTIONS, (speaker, statuses, *first, -1, 21)),
        (
            "search: budget",
            sq.SEARCH,
            ("budget", statuses, ["debate", "chapter", "speaker", "passage"], 21, 0, sq.SEARCH_CANDIDATES),
        ),
        (
            "search: rare word",
            sq.SEARCH,
            (
                "hôpital dette",
                statuses,
                ["debate", "chapter", "speaker", "passage"],
                21,
                0,
                sq.SEARCH_CANDIDATES,
            ),
        ),
        ("suggest: speakers", sq.SPEAKER_SUGGESTIONS, ("dép", "dep:*", 8)),
        ("suggest: debates", sq.DEBATE_SUGGESTIONS, ("seance & bud:*", statuses, 24)),
        ("programme: a day", pq.LIST_DAY, (dt.date(2020, 6, 2),)),
    ]


def walk(node: dict[str, Any], found: list[tuple[str, str, int]]) -> None:
    relation = node.get("Relation Name")
    if relation in BIG_TABLES:
        found.append(
            (node["Node Type"], relation, int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1)))
        )
    for child in node.get("Plans", []):
        walk(child, found)


async def run(dsn: str, debates: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        print(f"seeding {debates} debates…", flush=True)
        for statement in SEED.split(";\n\n"):
            if "$1" in statement:
                await conn.execute(statement.replace("$1::int", str(int(debates))))
            else:
                await conn.execute(statement)
        await conn.execute("ANALYZE")
        sizes = {
            r["relname"]: int(r["reltuples"])
            for r in await conn.fetch("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
        }
        speaker = "PA42"
        row = await conn.fetchrow(
            "SELECT starts_at, id FROM debates d WHERE status = ANY($1) "
            f"ORDER BY {dq.LISTING_KEY} DESC, id DESC OFFSET $2 LIMIT 1",
            list(dq.LISTED_STATUSES),
            debates * 2 // 5,  # page 2 000 of 100 000 debates
        )
        deep = dq.DebateKey(row["starts_at"], row["id"])
        print(f"{'query':<30} {'ms':>8} {'big-table rows read':>20}  plan")
        worst = 0.0
        for name, sql, args in queries(speaker, deep):
            explain = await conn.prepare("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            for _ in range(6):  # past the custom plans: what a long-running pool executes
                plan = json.loads(await explain.fetchval(*args))[0]
            found: list[tuple[str, str, int]] = []
            walk(plan["Plan"], found)
            scans = [f"{t} on {rel}" for t, rel, _ in found if t == "Seq Scan" and sizes.get(rel, 0) > SMALL]
            rows = sum(r for _, _, r in found)
            ms = plan["Execution Time"]
            worst = max(worst, ms)
            verdict = "SCAN: " + ", ".join(scans) if scans else "index"
            print(f"{name:<30} {ms:>8.2f} {rows:>20}  {verdict}")
        print(f"slowest: {worst:.2f} ms")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--debates", type=int, default=100_000)
    args = parser.parse_args()
    pg = os.environ.get("ROBIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(pg, f"robian_plans_{uuid.uuid4().hex[:8]}") as dsn:
        asyncio.run(run(dsn, args.debates))


if __name__ == "__main__":
    main()

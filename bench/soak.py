"""Soak: mixed traffic for N minutes against real processes; per-minute RSS, fds, tasks, p99.

    .venv/bin/python bench/soak.py --minutes 10 [--listeners 2000] [--readers 8] [--ladder light]

What runs (each its own process, as deployed): ``robian-media serve`` (no in-process worker),
``robian-media worker --concurrency 1``, and load generators holding ``--listeners`` SSE and
WebSocket listeners on the ``jobs`` channel (bench/fanout_clients.py). This process reads the
metadata API with ``--readers`` concurrent clients and submits one ingest job at a time (a
synthesised sitting from a local origin, the light ladder): every job publishes progress events to
every listener and a new debate version. PostgreSQL: ``ROBIAN_TEST_PG_URL``'s server, else the
machine's on 127.0.0.1:5432 (a throw-away database); Redis: ``ROBIAN_REDIS_URL`` or 127.0.0.1:6379.

Each minute prints, for the server (and the worker): RSS, open file descriptors, asyncio tasks (from
/metrics), then read requests, their p99, 5xx count, listeners connected, events received, jobs
finished. A leak is a line that keeps rising; the last line compares the last minute with the first.
Not a test: nothing gates on these numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout_bench import rss_kb  # noqa: E402
from bench.fanout_clients import LoadProcess  # noqa: E402
from tests.factories import connect, create_debate  # noqa: E402
from tests.ingest.media import tones  # noqa: E402
from tests.ingest.origin import Origin  # noqa: E402
from tests.services import DEFAULT_PG, ServerProcess, fresh_database, server_env  # noqa: E402

ADMIN = "soak-admin-token-0123456789abcdef"
LIGHT_LADDER = ROOT / "tests" / "ingest" / "ladder-light.json"
READ_PATHS = (
    "/api/v1/debates?limit=20",
    "/api/v1/debates/{id}",
    "/api/v1/debates/{id}/stream",
    "/api/v1/debates/{id}/chapters",
    "/api/v1/speakers",
    "/api/v1/search?q=seance",
    "/api/debats",
)


class EventCounter(LoadProcess):
    """fanout_clients' listeners counting our events (each names its ``"channel"``), not timing them."""

    MARKER = b'"channel":'

    def _scan(self, buf: bytes, arrived: float, now: float) -> bytes:
        self.received += buf.count(self.MARKER)
        return buf[-(len(self.MARKER) - 1) :]


def listeners_process(pipe: Connection, port: int, source_ip: str, sse: int, ws: int) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    EventCounter("127.0.0.1", port, source_ip, "/api/v1/events?channels=jobs", ["jobs"]).run(pipe, sse, ws)


def proc_stats(pid: int) -> tuple[float, int]:
    """RSS in MB and open file descriptors of a process."""
    return rss_kb(pid) / 1024, len(os.listdir(f"/proc/{pid}/fd"))


async def tasks_of(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    match = re.search(r"^robian_asyncio_tasks (\S+)$", text, re.M)
    return int(float(match.group(1))) if match else -1


class Minute:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.jobs = 0
        self.failed_jobs = 0


async def reader(http: aiohttp.ClientSession, url: str, debates: list[str], stats: list[Minute]) -> None:
    while True:
        path = random.choice(READ_PATHS)
        if "{id}" in path:
            if not debates:
                await asyncio.sleep(0.1)
                continue
            path = path.format(id=random.choice(debates))
        started = time.perf_counter()
        try:
            async with http.get(url + path) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError:
            status = 599
        minute = stats[-1]
        minute.latencies.append(time.perf_counter() - started)
        if status >= 500:
            minute.errors += 1
        await asyncio.sleep(0.05)


async def packager_loop(http: aiohttp.ClientSession, url: str, origin: Origin, debates: list[str],
                        stats: list[Minute]) -> None:  # fmt: skip
    """One ingest job at a time, each a new source (so a new debate and a published version)."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    while True:
        source = origin.url(f"/files/sitting.m4a?soak={uuid.uuid4().hex}")
        async with http.post(f"{url}/api/v1/ingest", json={"source_url": source}, headers=auth) as response:
            accepted = await response.json()
        while True:
            await asyncio.sleep(0.5)
            async with http.get(f"{url}/api/v1/jobs/{accepted['job_id']}") as response:
                job = await response.json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                break
        if job["status"] == "succeeded":
            stats[-1].jobs += 1
            debates.append(accepted["debate_id"])
            del debates[:-200]
        else:
            stats[-1].failed_jobs += 1
        await asyncio.sleep(2)


async def seed_debates(database_url: str, count: int) -> list[str]:
    """Published debates to read from the first minute (and, with --no-jobs, the only ones)."""
    conn = await connect(database_url)
    try:
        return [str(await create_debate(conn, title=f"Séance {i}")) for i in range(count)]
    finally:
        await conn.close()


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def soak(args: argparse.Namespace, database_url: str, work: Path) -> None:
    media = work / "media-src"
    media.mkdir()
    tones(media / "sitting.m4a", args.source_seconds, "-c:a", "aac", "-b:a", "64k")
    origin = await Origin(media).start()
    env = server_env(
        database_url=database_url,
        redis_url=os.environ.get("ROBIAN_REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_prefix=f"robian-soak:{uuid.uuid4().hex[:8]}:",
        data_dir=str(work / "data"),
        admin_token=ADMIN,
        ingest_allow_private="true",
        rate_limit_per_minute="0",
        workers="0",
        ladder=args.ladder,
        events_max_listeners=str(args.listeners + 1000),
        **dict(item.split("=", 1) for item in args.set),
    )
    server = ServerProcess(env, work / "server.log").start()
    worker = ServerProcess(env, work / "worker.log", command="worker", args=("--concurrency", "1")).start()
    loaders: list[tuple[multiprocessing.Process, Any]] = []
    per_loader = 5000
    count = max(1, -(-args.listeners // per_loader))
    for index in range(count):
        share = args.listeners // count + (1 if index < args.listeners % count else 0)
        parent, child = multiprocessing.Pipe()
        proc = multiprocessing.Process(
            target=listeners_process,
            args=(child, server.port, f"127.0.0.{index + 2}", share // 2, share - share // 2),
            daemon=True,
        )
        proc.start()
        loaders.append((proc, parent))

    def counts() -> dict[str, int]:
        total: dict[str, int] = {}
        for _, pipe in loaders:
            pipe.send("collect")
        for _, pipe in loaders:
            for key, value in pipe.recv().items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
        return total

    stats = [Minute()]
    debates: list[str] = []
    rows: list[dict[str, Any]] = []
    connector = aiohttp.TCPConnector(limit=args.readers + 4)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [asyncio.create_task(reader(http, server.url, debates, stats)) for _ in range(args.readers)]
        debates.extend(await seed_debates(database_url, 50))
        if args.jobs:
            tasks.append(asyncio.create_task(packager_loop(http, server.url, origin, debates, stats)))
        packaging = f"one packaging job at a time, ladder {args.ladder}" if args.jobs else "no packaging"
        print(
            f"soak: {args.minutes} min, {args.listeners} listeners, {args.readers} readers, {packaging}; "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        header = (
            f"{'min':>3} {'rss MB':>7} {'fds':>5} {'tasks':>6} {'wrk MB':>7} {'wrk fds':>7} {'reads':>6} "
            f"{'p99 ms':>7} {'5xx':>4} {'listen':>6} {'events':>8} {'jobs':>4} {'load':>5}"
        )
        print(header, flush=True)
        try:
            for minute in range(1, args.minutes + 1):
                await asyncio.sleep(60)
                done = stats[-1]
                stats.append(Minute())
                rss, fds = proc_stats(server.pid)
                worker_rss, worker_fds = proc_stats(worker.pid)
                listening = counts()
                row = {
                    "minute": minute,
                    "rss": rss,
                    "fds": fds,
                    "tasks": await tasks_of(http, server.url),
                    "worker_rss": worker_rss,
                    "worker_fds": worker_fds,
                    "reads": len(done.latencies),
                    "p99": p99(done.latencies),
                    "errors": done.errors,
                    "listeners": listening.get("ready", 0),
                    "events": listening.get("received", 0),
                    "jobs": done.jobs,
                }
                rows.append(row)
                print(
                    f"{minute:>3} {rss:>7.1f} {fds:>5} {row['tasks']:>6} {worker_rss:>7.1f} {worker_fds:>7} "
                    f"{row['reads']:>6} {row['p99']:>7.1f} {done.errors:>4} {row['listeners']:>6} "
                    f"{row['events']:>8} {done.jobs:>4} {os.getloadavg()[0]:>5.2f}",
                    flush=True,
                )
                if not server.alive() or not worker.alive():
                    print("soak: a process died; see", work, flush=True)
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for _, pipe in loaders:
                pipe.send("stop")
            for proc, _ in loaders:
                proc.join(timeout=30)
            worker.stop()
            server.stop()
            await origin.stop()
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(
            f"first → last minute: server RSS {first['rss']:.1f} → {last['rss']:.1f} MB, "
            f"fds {first['fds']} → {last['fds']}, tasks {first['tasks']} → {last['tasks']}; "
            f"worker RSS {first['worker_rss']:.1f} → {last['worker_rss']:.1f} MB; "
            f"p99 {first['p99']:.1f} → {last['p99']:.1f} ms; "
            f"5xx total {sum(r['errors'] for r in rows)}; jobs {sum(r['jobs'] for r in rows)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--listeners", type=int, default=2000)
    parser.add_argument("--readers", type=int, default=8, help="concurrent metadata readers")
    parser.add_argument("--ladder", default=str(LIGHT_LADDER))
    parser.add_argument("--source-seconds", type=float, default=120.0, help="length of each ingested source")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting (ROBIAN_ without prefix)",
    )
    parser.add_argument(
        "--no-jobs",
        dest="jobs",
        action="store_false",
        help="no packaging: a fixed set of debates (leak baseline)",
    )
    args = parser.parse_args()
    admin_dsn = os.environ.get("ROBIAN_TEST_PG_URL", DEFAULT_PG)
    work = Path(tempfile.mkdtemp(prefix="robian-soak-"))
    with fresh_database(admin_dsn, f"robian_soak_{uuid.uuid4().hex[:8]}") as database_url:
        asyncio.run(soak(args, database_url, work))
    print(f"logs in {work}")


if __name__ == "__main__":
    main()

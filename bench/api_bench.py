"""Throughput of the metadata API next to aiohttp's hello world, measured side by side in one run.

    .venv/bin/python bench/api_bench.py [--duration 10] [--connections 64]

Each server runs alone in its own process (``web.run_app``, access log off for all), loaded by
``wrk -t1 -c64`` on loopback:

- ``hello``: a bare aiohttp app answering a constant JSON body: the baseline.
- ``hello, no-op layers``: the same bare app with one middleware and one ``on_response_prepare``
  receiver that do nothing: what aiohttp charges for the two hooks the stack uses.
- ``hello, API headers``: the same bare app answering with every header the API adds to an answer
  (security, CORS): what those headers cost aiohttp and the kernel by themselves.
- ``hello, list bytes``: the same bare app answering the list's exact bytes (≈ 7 KB): what the
  size of the answer costs by itself.
- ``hello+stack``: the same handler inside ``create_app`` (every middleware and signal of the API:
  metrics, problem+json, CORS/security headers, preflight, rate limit): what the stack costs.
  The API servers collect garbage as ``robian-media serve`` does (``ROBIAN_GC_THRESHOLD``, startup
  objects frozen); ``stack, default gc`` is the same with Python's default collector.
- ``floor of stack`` / ``floor of list``: the exact answer (body and every header) of ``hello+stack``
  / ``list cached``, replayed by the bare app inside the no-op layers: what aiohttp and the kernel
  charge for that answer from an app hooked as ours is, our code doing nothing. The distance from a
  floor to its server is our code's cost; a goal above the floor is out of reach with aiohttp.
- ``list cached``: ``GET /api/v1/debates?limit=20`` with the response cache (micro-cache in front of Redis).
- ``list redis-only``: the same with ``ROBIAN_CACHE_LOCAL_TTL=0``: every request reads Redis.
- ``list uncached``: ``ROBIAN_CACHE_ENABLED=false``: every request queries PostgreSQL.

The rate limiter runs in the API servers, with a limit wrk (one client address) never reaches.
A second table adds the CPU that PostgreSQL, Redis and wrk spend per request (read from /proc; on a
machine where nothing else uses them) and the req/s the machine's cores allow at that total cost:
where that bound is below a goal, the goal is out of reach whatever the server does.
Needs PostgreSQL
(``ROBIAN_BENCH_PG_URL``, default the machine's) and Redis (``ROBIAN_BENCH_REDIS_URL``); a database of
its own with 300 debates is created (then vacuumed and analyzed, as autovacuum leaves such tables in
a running deployment) and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from robian_media.db.migrate import migrate  # noqa: E402
from tests.factories import connect, create_chapters, create_debate, create_speaker  # noqa: E402
from tests.services import free_port, fresh_database, wait_for_port  # noqa: E402

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HELLO = b'{"hello":"world"}'
LIST_PATH = "/api/v1/debates?limit=20"
# headers aiohttp writes itself on every answer (not replayed)
PER_ANSWER_HEADERS = frozenset({"Date", "Server", "Content-Length", "Connection"})
# issue #20's goals: (share of hello world's req/s, p99 ms or None)
GOALS: dict[str, tuple[float, float | None]] = {
    "hello+stack": (0.85, None),
    "list cached": (0.60, 10.0),
    "list redis-only": (0.35, None),
    "list uncached": (0.15, 30.0),
}


# -- the servers (run in child processes) ----------------------------------------------------------
async def hello(request: web.Request) -> web.Response:
    return web.Response(body=HELLO, content_type="application/json")


def with_no_op_layers() -> web.Application:
    """The bare app with one pass-through middleware and one response-prepare receiver that do
    nothing: what aiohttp charges for having those hooks at all (the stack has one of each)."""

    @web.middleware
    async def passing(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)

    async def prepared(request: web.Request, response: web.StreamResponse) -> None:
        return None

    app = web.Application(middlewares=[passing])
    app.on_response_prepare.append(prepared)
    return app


def serve(kind: str, port: int) -> None:
    if kind == "hello":
        app = web.Application()
        app.router.add_get("/hello", hello)
    elif kind == "hello, no-op layers":
        app = with_no_op_layers()
        app.router.add_get("/hello", hello)
    elif kind in ("replay", "replay, no-op layers"):
        # aiohttp answering another server's exact bytes and headers (BENCH_REPLAY_FILE): what the
        # size of an answer, or the headers the API adds to every answer, cost by themselves; inside
        # the no-op layers, what aiohttp alone charges for that answer from an app hooked as ours is
        answer = json.loads(Path(os.environ["BENCH_REPLAY_FILE"]).read_text())
        body, headers = answer["body"].encode(), answer["headers"]

        async def replay(request: web.Request) -> web.Response:
            return web.Response(body=body, headers=headers)

        app = web.Application() if kind == "replay" else with_no_op_layers()
        app.router.add_get("/hello", replay)
    else:
        from robian_media.app import create_app, tune_gc
        from robian_media.settings import Settings

        settings = Settings()  # from the ROBIAN_* environment the parent sets
        if kind == "api":  # collected as `robian-media serve` does ("api, default gc": as Python does)
            tune_gc(settings.gc_threshold)
        app = create_app(settings)
        app.router.add_get("/hello", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- the measurement -------------------------------------------------------------------------------
class Measure(NamedTuple):
    rps: float
    p99_ms: float
    cpu_us: float  # server process CPU time per request (user + system)
    services_us: float  # PostgreSQL's and Redis's processes, per request
    wrk_us: float  # the load generator's, per request


# the services the API servers talk to, found by process name: their CPU counts per request too
SERVICE_PROCESSES = frozenset({"postgres", "redis-server"})


def services_cpu_seconds() -> dict[int, float]:
    """CPU time so far of each PostgreSQL and Redis process on the machine, by pid (Linux /proc)."""
    seconds = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "comm").read_text().strip() in SERVICE_PROCESSES:
                seconds[int(proc.name)] = cpu_seconds(int(proc.name))
        except (FileNotFoundError, ProcessLookupError):
            continue  # a backend that ended meanwhile
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings by the processes alive at the second (new ones: all of it)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, duration: int, connections: int, headers: tuple[str, ...] = ()
) -> tuple[float, float, int, int]:
    """(requests/s, p99 latency ms, requests, non-2xx responses); ``headers`` as ``Name: value``."""
    extra = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *extra, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p99, total, int(errors.group(1)) if errors else 0


class Server:
    """One server process of the comparison, started once and measured in every round."""

    def __init__(self, kind: str, env: dict[str, str], path: str, headers: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.headers = headers
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port", str(self.port)],
            env={**os.environ, **env},
            cwd=ROOT,
        )

    def measure(self, duration: int, connections: int) -> Measure:
        server, services, load = cpu_seconds(self.proc.pid), services_cpu_seconds(), children_cpu_seconds()
        rps, p99, total, errors = wrk(self.url, duration, connections, self.headers)
        server = cpu_seconds(self.proc.pid) - server
        services_spent = spent(services, services_cpu_seconds())
        load = children_cpu_seconds() - load
        if errors:
            raise SystemExit(f"{errors} error responses from {self.url}")
        return Measure(rps, p99, server / total * 1e6, services_spent / total * 1e6, load / total * 1e6)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def seed(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        speakers = [await create_speaker(conn, f"Député {i}", group_abbrev="EXDS") for i in range(20)]
        start = dt.datetime(2026, 1, 5, 14, tzinfo=dt.UTC)
        for i in range(300):
            debate = await create_debate(
                conn, title=f"Séance publique n° {i}", starts_at=start + dt.timedelta(hours=7 * i)
            )
            await create_chapters(
                conn,
                debate,
                [
                    {
                        "start": 60.0 * k,
                        "end": 60.0 * (k + 1),
                        "speaker_id": speakers[(i + k) % 20],
                        "title": f"Intervention {k}",
                    }
                    for k in range(12)
                ],
            )
    finally:
        await conn.close()


async def vacuum_analyze(dsn: str) -> None:
    """The seeded tables as autovacuum leaves them within a minute in a running deployment: their
    statistics gathered and the seed's dead row versions gone (the planner reads the one, the scans
    the other)."""
    conn = await connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def drop_redis_keys(url: str, prefix: str) -> None:
    redis = Redis.from_url(url)
    keys = [k async for k in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@contextlib.contextmanager
def seeded_api_env(
    seed_database: Callable[[str], Awaitable[None]] = seed,
) -> Iterator[dict[str, str]]:
    """The environment of an API server on a throw-away database seeded by ``seed_database``, a Redis
    key prefix of its own (its keys dropped at the end) and a temporary data directory."""
    pg = os.environ.get("ROBIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ROBIAN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"robian-bench:{uuid.uuid4().hex[:8]}:"
    with (
        fresh_database(pg, f"robian_bench_{uuid.uuid4().hex[:8]}") as dsn,
        tempfile.TemporaryDirectory() as tmp,
    ):
        asyncio.run(seed_database(dsn))
        asyncio.run(vacuum_analyze(dsn))
        try:
            yield {
                "ROBIAN_DATABASE_URL": dsn,
                "ROBIAN_REDIS_URL": redis_url,
                "ROBIAN_REDIS_PREFIX": prefix,
                "ROBIAN_DATA_DIR": tmp,
                "ROBIAN_ADMIN_TOKEN": "bench-admin-token-0123456789",
                # the rate limiter runs (a real deployment has it) with a limit wrk never reaches
                "ROBIAN_RATE_LIMIT_PER_MINUTE": "1000000000",
                "ROBIAN_LOG_LEVEL": "WARNING",
            }
        finally:
            asyncio.run(drop_redis_keys(redis_url, prefix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (tests/setup-machine.sh installs it)")

    with seeded_api_env() as base:
        runs = {
            "hello": ("hello", {}, "/hello"),
            "hello, no-op layers": ("hello, no-op layers", {}, "/hello"),
            "hello+stack": ("api", base, "/hello"),
            "stack, default gc": ("api, default gc", base, "/hello"),
            "list cached": ("api", base, LIST_PATH),
            "list redis-only": ("api", {**base, "ROBIAN_CACHE_LOCAL_TTL": "0"}, LIST_PATH),
            "list uncached": ("api", {**base, "ROBIAN_CACHE_ENABLED": "false"}, LIST_PATH),
        }
        servers = {name: Server(kind, env, path) for name, (kind, env, path) in runs.items()}
        try:
            for server in servers.values():
                wait_for_port(server.port, timeout=60)
                server.measure(2, args.connections)  # warm up: pools, caches

            def content_type(headers: dict[str, str]) -> dict[str, str]:
                return {"Content-Type": headers["Content-Type"]}

            def every(headers: dict[str, str]) -> dict[str, str]:
                return headers

            # name: (the server whose answer is replayed, the headers kept, the replaying app)
            replays = {
                "hello, list bytes": ("list cached", content_type, "replay"),
                "hello, API headers": ("hello+stack", every, "replay"),
                # the floors: our answers from the bare app hooked as ours, our code doing nothing
                "floor of stack": ("hello+stack", every, "replay, no-op layers"),
                "floor of list": ("list cached", every, "replay, no-op layers"),
            }
            for name, (source, kept, kind) in replays.items():
                replay_file = Path(base["ROBIAN_DATA_DIR"]) / f"{source}.json"
                with urllib.request.urlopen(servers[source].url) as resp:
                    headers = {k: v for k, v in resp.headers.items() if k not in PER_ANSWER_HEADERS}
                    answer = {"body": resp.read().decode(), "headers": kept(headers)}
                replay_file.write_text(json.dumps(answer))
                servers[name] = Server(kind, {"BENCH_REPLAY_FILE": str(replay_file)}, "/hello")
                wait_for_port(servers[name].port, timeout=60)
                servers[name].measure(2, args.connections)
            order = [
                "hello",
                "hello, no-op layers",
                "hello, API headers",
                "hello, list bytes",
                "hello+stack",
                "floor of stack",
                "list cached",
                "floor of list",
                *runs,
            ]
            servers = {name: servers[name] for name in dict.fromkeys(order)}
            rounds: dict[str, list[Measure]] = {name: [] for name in servers}
            # rounds interleave the servers so that load from other processes hits each alike;
            # the best round of each is kept (the least disturbed); each round starts one server
            # further on, so that none always runs first or always follows the uncached one
            names = list(servers)
            for number in range(1, args.rounds + 1):
                shift = (number - 1) % len(names)
                for name in names[shift:] + names[:shift]:
                    time.sleep(1)  # the previous server's work (and PostgreSQL's after it) settles
                    m = servers[name].measure(args.duration, args.connections)
                    rounds[name].append(m)
                    print(
                        f"  round {number} {name:<18} {m.rps:>9.0f} req/s  p99 {m.p99_ms:7.2f} ms  "
                        f"{m.cpu_us:6.1f} µs CPU/request",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()
        # the best round of each (least disturbed by other processes), and its lowest CPU cost
        best = {name: max(measured) for name, measured in rounds.items()}
        cpu = {name: min(m.cpu_us for m in measured) for name, measured in rounds.items()}
        services = {name: min(m.services_us for m in measured) for name, measured in rounds.items()}
        load = {name: min(m.wrk_us for m in measured) for name, measured in rounds.items()}

    hello = best["hello"]
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s on loopback, one server loaded at a time, "
        f"best of {args.rounds} interleaved rounds; access log off everywhere"
    )
    print(
        f"{'server':<18} {'req/s':>9} {'vs hello':>9} {'p99 ms':>8} {'µs CPU/req':>11} {'vs hello':>9}  goal"
    )
    for name, m in best.items():
        goal = GOALS.get(name)
        verdict = ""
        if goal is not None:
            share, p99_limit = goal
            met = m.rps / hello.rps >= share and (p99_limit is None or m.p99_ms < p99_limit)
            wanted = f"≥ {share:.0%}" + (f" and p99 < {p99_limit:g} ms" if p99_limit else "")
            verdict = f"{wanted}: {'met' if met else 'NOT met'}"
        print(
            f"{name:<18} {m.rps:>9.0f} {m.rps / hello.rps:>9.1%} {m.p99_ms:>8.2f} "
            f"{cpu[name]:>11.1f} {cpu['hello'] / cpu[name]:>9.1%}  {verdict}"
        )
    print(
        "(µs CPU/req: the server process only, PostgreSQL and Redis excluded; its ratio is the share of "
        "hello-world's throughput on a dedicated core)"
    )
    # what bounds req/s when wrk, the server and the services share the machine's cores
    cores = os.cpu_count() or 1
    print(f"\nCPU per request of everyone involved, and the req/s {cores} cores allow at that cost")
    print(f"{'server':<18} {'server':>8} {'PG+Redis':>9} {'wrk':>6} {'all':>7} {'bound':>8} {'vs hello':>9}")
    bound = {n: cores * 1e6 / (cpu[n] + services[n] + load[n]) for n in best}
    for name in best:
        print(
            f"{name:<18} {cpu[name]:>8.1f} {services[name]:>9.1f} {load[name]:>6.1f} "
            f"{cpu[name] + services[name] + load[name]:>7.1f} {bound[name]:>8.0f} "
            f"{bound[name] / bound['hello']:>9.1%}"
        )
    print(
        json.dumps(
            {
                n: {
                    "rps": round(m.rps),
                    "p99_ms": m.p99_ms,
                    "cpu_us": round(cpu[n], 1),
                    "services_us": round(services[n], 1),
                    "wrk_us": round(load[n], 1),
                }
                for n, m in best.items()
            }
        )
    )


if __name__ == "__main__":
    main()

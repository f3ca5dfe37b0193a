"""Fan-out benchmark: N live-event listeners on ONE API process, broadcast latency and memory.

For each run: start a server process (ours: ``robian-media serve`` on PostgreSQL + Redis; baseline:
``fanout_baseline.py``, a StreamResponse + asyncio.Queue per SSE listener), open N listeners from
several load-generator processes (ours: half SSE, half WebSocket; baseline: SSE), then

- RSS per listener: (server RSS with N listeners − RSS before) / N;
- broadcast latency: ``--rounds`` single events, each published then awaited at every listener;
  p50/p99/max over all (listener, event) pairs, publish → bytes on the listener's socket (kernel
  receive timestamp: the server's cost), and ``h.p50``/``h.p99`` publish → handled by the load
  generator (adds its own scheduling: thousands of sockets per process on a shared CPU);
- delivery rate: a burst of ``--burst`` events back to back, N × burst / (last receive − first publish);
- ours only: time for the server to exit on SIGINT with the N streams still open.

Ours publishes the way a job worker does (a bus in this process, ``listen=False``, through Redis);
the baseline's events are POSTed to it. Server pinned to CPU 0, load generators and publisher to CPU 1
(when there are 2+). A process holds at most 20 000 sockets here (``ulimit -Hn``): N ≤ ≈ 19 900.

    .venv/bin/python bench/fanout_bench.py --ours 5000,10000,19500 --baseline 10000,19500
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fanout_clients import load_process  # noqa: E402

from robian_media.events.factory import open_event_bus  # noqa: E402
from robian_media.settings import Settings  # noqa: E402
from tests.services import free_port, fresh_database, wait_for_port  # noqa: E402

PER_LOADER = 5000
GOAL_P99_MS = 250.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def pin(pid: int, cpu: int) -> None:
    if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        os.sched_setaffinity(pid, {cpu})


class Run:
    def __init__(self, kind: str, n: int, env: dict[str, str], settings: Settings | None) -> None:
        self.kind, self.n, self.env, self.settings = kind, n, env, settings
        self.port = free_port()
        self.loaders: list[tuple[multiprocessing.Process, Any]] = []

    def start_server(self) -> subprocess.Popen[bytes]:
        if self.kind != "baseline":
            code = (
                "import resource, sys; s, h = resource.getrlimit(resource.RLIMIT_NOFILE);"
                "resource.setrlimit(resource.RLIMIT_NOFILE, (h, h));"
                f"from robian_media.cli import main; sys.exit(main(['serve', '--port', '{self.port}']))"
            )
            argv = [sys.executable, "-c", code]
        else:
            argv = [sys.executable, str(ROOT / "bench" / "fanout_baseline.py"), str(self.port)]
        quiet = subprocess.DEVNULL
        proc = subprocess.Popen(argv, env=self.env, cwd=ROOT, stderr=quiet, stdout=quiet)
        pin(proc.pid, 0)
        wait_for_port(self.port, timeout=60)
        return proc

    def start_loaders(self) -> None:
        count = max(2, math.ceil(self.n / PER_LOADER))
        for index in range(count):
            share = self.n // count + (1 if index < self.n % count else 0)
            sse = share if self.kind == "baseline" else share // 2
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(
                target=load_process,
                args=(child, "127.0.0.1", self.port, f"127.0.0.{index + 2}", sse, share - sse, 1),
                daemon=True,
            )
            proc.start()
            self.loaders.append((proc, parent))

    def ask(self, command: str) -> list[dict[str, Any]]:
        for _, pipe in self.loaders:
            pipe.send(command)
        return [pipe.recv() for _, pipe in self.loaders]

    async def wait_received(self, expected: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while sum(c["received"] for c in self.ask("counts")) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def collect(self) -> tuple[array[float], array[float], float, int]:
        """Arrival and handled latencies since the last collect, the last arrival, the count."""
        arrival: array[float] = array("d")
        handled: array[float] = array("d")
        last = 0.0
        received = 0
        for report in self.ask("collect"):
            arrival.frombytes(report["arrival"])
            handled.frombytes(report["handled"])
            last = max(last, report["last_receive"])
            received += report["received"]
        return arrival, handled, last, received

    def stop_loaders(self) -> None:
        for proc, pipe in self.loaders:
            pipe.send("stop")
            proc.join(timeout=30)


async def publish_ours(bus: Any, seq: int) -> float:
    t = time.time()
    await bus.publish("system", "bench", {"t": t, "seq": seq})
    return t


async def measure(run: Run) -> dict[str, Any]:
    server = run.start_server()
    session = aiohttp.ClientSession()
    result: dict[str, Any] = {"kind": run.kind, "n": run.n}
    bus_context = open_event_bus(run.settings, listen=False) if run.settings else None
    bus = await bus_context.__aenter__() if bus_context else None

    async def publish(seq: int) -> float:
        if bus is not None:
            return await publish_ours(bus, seq)
        t = time.time()
        await (await session.post(f"http://127.0.0.1:{run.port}/publish?t={t!r}&seq={seq}")).read()
        return t

    try:
        await asyncio.sleep(1.0)
        rss_before = rss_kb(server.pid)
        started = time.monotonic()
        run.start_loaders()
        while True:
            counts = run.ask("counts")
            ready = sum(c["ready"] for c in counts)
            failed = sum(c["failed"] + c["closed"] for c in counts)
            if ready + failed >= run.n or time.monotonic() - started > 180:
                break
            await asyncio.sleep(0.5)
        result.update(ready=ready, failed=failed, connect_s=time.monotonic() - started)
        await asyncio.sleep(2.0)
        result["rss_mb"] = rss_kb(server.pid) / 1024
        result["kb_per_listener"] = (rss_kb(server.pid) - rss_before) / max(ready, 1)
        await publish(-1)  # warm-up
        await run.wait_received(ready, 15)
        run.collect()

        arrival: array[float] = array("d")
        handled: array[float] = array("d")
        delivered = 0
        for seq in range(args.rounds):
            await publish(seq)
            await run.wait_received(ready, 15)
            arrived, got, _, received = run.collect()
            arrival.extend(arrived)
            handled.extend(got)
            delivered += received
            await asyncio.sleep(0.2)
        result.update(delivered=delivered, expected=ready * args.rounds)
        for name, values in (("", arrival), ("handled_", handled)):
            ordered = sorted(values)
            result[f"{name}p50_ms"] = 1000 * statistics.median(ordered)
            result[f"{name}p99_ms"] = 1000 * ordered[int(0.99 * (len(ordered) - 1))]
            result[f"{name}max_ms"] = 1000 * ordered[-1]

        first = time.time()
        for seq in range(args.burst):
            await publish(1000 + seq)
        await run.wait_received(ready * args.burst, 60)
        _, _, last, received = run.collect()
        result["events_per_s"] = received / (last - first) if last > first else float("nan")
        result["burst_delivered"] = f"{received}/{ready * args.burst}"

        if run.kind != "baseline":  # shutdown with every stream still open
            stopping = time.monotonic()
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
            result["shutdown_s"] = time.monotonic() - stopping
    finally:
        run.stop_loaders()
        if server.poll() is None:
            server.kill()
            server.wait()
        if bus_context is not None:
            await bus_context.__aexit__(None, None, None)
        await session.close()
    return result


def table(results: list[dict[str, Any]]) -> None:
    print(
        f"\n{'server':10} {'N':>6} {'ready':>6} {'KB/lst':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'h.p50':>6} {'h.p99':>6} {'deliv':>13} {'events/s':>9} {'shutdown':>8}"
    )
    for r in results:
        print(
            f"{r['kind']:10} {r['n']:>6} {r['ready']:>6} {r['kb_per_listener']:>7.1f} {r['p50_ms']:>7.0f} "
            f"{r['p99_ms']:>7.0f} {r['max_ms']:>7.0f} "
            f"{r['handled_p50_ms']:>6.0f} {r['handled_p99_ms']:>6.0f} "
            f"{r['delivered']:>6}/{r['expected']:<6} "
            f"{r['events_per_s']:>9.0f} {r.get('shutdown_s', float('nan')):>7.2f}s"
        )
    for r in results:
        if r["ready"] < r["n"]:
            print(f"WARNING {r['kind']} N={r['n']}: only {r['ready']} connected ({r['failed']} failed)")
    baselines = {r["n"]: r for r in results if r["kind"] == "baseline"}
    for r in results:
        base = baselines.get(r["n"])
        if r["kind"] != "baseline" and base:
            print(
                f"{r['kind']}/baseline at N={r['n']}: p50 ×{r['p50_ms'] / base['p50_ms']:.2f}, "
                f"p99 ×{r['p99_ms'] / base['p99_ms']:.2f}, memory/listener ×"
                f"{r['kb_per_listener'] / base['kb_per_listener']:.2f}, events/s ×"
                f"{r['events_per_s'] / base['events_per_s']:.2f}"
            )
    meeting = [r["n"] for r in results if r["kind"] == "ours" and r["p99_ms"] <= GOAL_P99_MS]
    best = max(meeting, default="none")
    print(f"largest N measured with broadcast p99 ≤ {GOAL_P99_MS:.0f} ms (ours): {best}")


async def run_all(dsn: str, redis_url: str, data: str) -> list[dict[str, Any]]:
    prefix = f"robian-bench:{uuid.uuid4().hex[:8]}:"
    results = []
    try:
        env = {
            **os.environ,
            "ROBIAN_DATABASE_URL": dsn,
            "ROBIAN_REDIS_URL": redis_url,
            "ROBIAN_REDIS_PREFIX": prefix,
            "ROBIAN_DATA_DIR": data,
            "ROBIAN_ADMIN_TOKEN": "bench-admin-token-0123456789",
            "ROBIAN_LOG_LEVEL": "WARNING",
            "ROBIAN_WORKERS": "0",
            # every listener connects within seconds from a handful of source addresses
            "ROBIAN_RATE_LIMIT_PER_MINUTE": "0",
        }
        settings = Settings(_env_file=None, database_url=dsn, redis_url=redis_url, redis_prefix=prefix)
        plan = (
            [("baseline", n) for n in args.baseline]
            + [("ours", n) for n in args.ours]
            + [("ours-pygc", n) for n in args.ours_python_gc]
        )
        for kind, n in plan:
            print(f"{kind} N={n} …", flush=True)
            # ours-pygc: the same server with Python's default collector thresholds (ROBIAN_GC_THRESHOLD=0)
            run_env = {**env, "ROBIAN_GC_THRESHOLD": "0"} if kind == "ours-pygc" else env
            result = await measure(Run(kind, n, run_env, settings if kind != "baseline" else None))
            print(f"  {result}", flush=True)
            results.append(result)
    finally:
        redis = Redis.from_url(redis_url)
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return results


def main() -> None:
    pg = os.environ.get("ROBIAN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("ROBIAN_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    with fresh_database(pg, f"robian_bench_{os.getpid()}") as dsn, tempfile.TemporaryDirectory() as data:
        table(asyncio.run(run_all(dsn, redis_url, data)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    counts = lambda value: [int(x) for x in value.split(",") if x]  # noqa: E731
    parser.add_argument("--ours", type=counts, default=[5000, 10000, 19500], help="listener counts")
    parser.add_argument("--baseline", type=counts, default=[10000], help="listener counts")
    parser.add_argument(
        "--ours-python-gc", type=counts, default=[], help="listener counts, ours with Python's default GC"
    )
    parser.add_argument("--rounds", type=int, default=10, help="single-event broadcasts measured")
    parser.add_argument("--burst", type=int, default=20, help="events published back to back for events/s")
    args = parser.parse_args()
    pin(os.getpid(), 1)
    main()

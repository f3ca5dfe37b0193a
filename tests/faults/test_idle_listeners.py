"""Thousands of idle SSE and WebSocket listeners held by another process, then dropped at once (RST).

While they are connected the API still answers promptly and an event reaches every one of them;
when they vanish the server gives every socket back (no file descriptor or task leak). CI holds
2 000; ``ROBIAN_FAULTS_LISTENERS=10000`` is the full-size run (docs/hardening.md).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.fanout_clients import load_process
from bench.soak import proc_stats
from robian_media.events.factory import open_event_bus
from robian_media.settings import Settings
from tests.conftest import RUN_ID
from tests.factories import connect, create_debate
from tests.services import ServerProcess, server_env

LISTENERS = int(os.environ.get("ROBIAN_FAULTS_LISTENERS", "2000"))
PER_PROCESS = 5000


def get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status, time.monotonic() - started


def test_thousands_of_idle_listeners_then_all_gone(database_url: str, redis_url: str, tmp_path: Path) -> None:
    prefix = f"robian-test:{RUN_ID}:idle-{uuid.uuid4().hex[:6]}:"

    async def seed() -> None:
        conn = await connect(database_url)
        try:
            await create_debate(conn, title="Séance tenue")
        finally:
            await conn.close()

    asyncio.run(seed())
    env = server_env(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=prefix,
        data_dir=str(tmp_path / "data"),
        workers="0",
        rate_limit_per_minute="0",
        # every listener here comes from 127.0.0.1: the per-address cap (#22) would refuse all but 100
        events_listeners_per_address=str(LISTENERS + 100),
    )
    server = ServerProcess(env, tmp_path / "server.log").start()
    context = multiprocessing.get_context("spawn")
    loaders: list[tuple[Any, Any]] = []
    try:
        get(f"{server.url}/api/v1/debates?limit=5")
        baseline_rss, baseline_fds = proc_stats(server.pid)
        count = max(1, -(-LISTENERS // PER_PROCESS))
        for index in range(count):
            share = LISTENERS // count + (1 if index < LISTENERS % count else 0)
            parent, child = context.Pipe()
            proc = context.Process(
                target=load_process,
                args=(
                    child,
                    "127.0.0.1",
                    server.port,
                    f"127.0.0.{index + 2}",
                    share // 2,
                    share - share // 2,
                    None,
                ),
                daemon=True,
            )
            proc.start()
            loaders.append((proc, parent))

        def counts() -> dict[str, int]:
            for _, pipe in loaders:
                pipe.send("counts")
            reports = [pipe.recv() for _, pipe in loaders]
            return {key: sum(r[key] for r in reports) for key in ("ready", "received", "closed", "failed")}

        deadline = time.monotonic() + 120
        while counts()["ready"] < LISTENERS:
            assert time.monotonic() < deadline, counts()
            time.sleep(0.2)
        assert counts()["failed"] == 0

        latencies = sorted(get(f"{server.url}/api/v1/debates?limit=5")[1] for _ in range(20))
        assert latencies[-1] < 2.0, latencies  # the API is not starved by the idle sockets
        assert get(f"{server.url}/health/ready")[0] == 200
        per_listener_kb = (proc_stats(server.pid)[0] - baseline_rss) * 1024 / LISTENERS
        (tmp_path / "measured.json").write_text(
            json.dumps({"listeners": LISTENERS, "kb_each": per_listener_kb})
        )
        assert per_listener_kb < 64, per_listener_kb

        async def publish() -> None:
            settings = Settings(
                _env_file=None, database_url=database_url, redis_url=redis_url, redis_prefix=prefix
            )
            async with open_event_bus(settings, listen=False) as bus:
                # fanout_clients counts a "t" followed by another field
                await bus.publish("system", "fault.test", {"t": time.time(), "n": 1})

        asyncio.run(publish())
        deadline = time.monotonic() + 30
        while counts()["received"] < LISTENERS:
            assert time.monotonic() < deadline, f"the event reached {counts()['received']} of {LISTENERS}"
            time.sleep(0.1)

        for _, pipe in loaders:
            pipe.send("stop")
        for proc, _ in loaders:
            proc.join(timeout=30)
        loaders.clear()
        deadline = time.monotonic() + 30
        while proc_stats(server.pid)[1] > baseline_fds + 20:
            assert time.monotonic() < deadline, (
                f"{proc_stats(server.pid)[1]} fds still open (baseline {baseline_fds})"
            )
            time.sleep(0.2)
        assert get(f"{server.url}/health")[0] == 200
    finally:
        for proc, pipe in loaders:
            pipe.send("stop")
            proc.join(timeout=30)
        code = server.stop()
    assert code == 0, server.output()[-3000:]
    assert "unhandled error" not in server.output()

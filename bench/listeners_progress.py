"""Progress writes over HTTP, side by side in one run (PostgreSQL on this machine, no Redis):

1. listeners on distinct debates vs all on one debate (every write of the second case updates the
   same hourly rollup row: the cost of that hot row);
2. an offline sync sent as one batch vs the same writes as single PUTs.

    .venv/bin/python -m bench.listeners_progress [--listeners 32] [--writes 20]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from robian_media.app import create_app
from robian_media.db.migrate import migrate
from robian_media.settings import Settings
from tests.factories import connect, create_debate
from tests.services import free_port

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def register(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    async with session.post(f"{base}/api/v1/devices") as resp:
        body = await resp.json()
    return {"Authorization": f"Bearer {body['token']}"}


def write(i: int, start: datetime) -> dict[str, Any]:
    return {"position": i * 10.0, "updated_at": (start + timedelta(seconds=10 * i)).isoformat()}


async def listeners(
    session: aiohttp.ClientSession, base: str, debates: list[uuid.UUID], writes: int
) -> float:
    """Each listener PUTs ``writes`` positions for its debate, all listeners at once → writes/s."""
    devices = [await register(session, base) for _ in debates]
    start = datetime.now(UTC) - timedelta(hours=1)

    async def listen(headers: dict[str, str], debate: uuid.UUID) -> None:
        for i in range(writes):
            async with session.put(
                f"{base}/api/v1/progress/{debate}", json=write(i, start), headers=headers
            ) as r:
                assert r.status == 200, await r.text()

    began = time.perf_counter()
    await asyncio.gather(*(listen(h, d) for h, d in zip(devices, debates, strict=True)))
    return len(debates) * writes / (time.perf_counter() - began)


async def offline_sync(
    session: aiohttp.ClientSession, base: str, debates: list[uuid.UUID], batch: bool
) -> float:
    """One device syncs 10 writes for each debate → seconds."""
    headers = await register(session, base)
    start = datetime.now(UTC) - timedelta(hours=2)
    items = [{"debate_id": str(d), **write(i, start)} for d in debates for i in range(10)]
    began = time.perf_counter()
    if batch:
        for chunk in range(0, len(items), 500):
            async with session.post(
                f"{base}/api/v1/progress/batch", json={"items": items[chunk : chunk + 500]}, headers=headers
            ) as r:
                assert r.status == 200, await r.text()
    else:
        for item in items:
            debate = item.pop("debate_id")
            async with session.put(f"{base}/api/v1/progress/{debate}", json=item, headers=headers) as r:
                assert r.status == 200, await r.text()
    return time.perf_counter() - began


async def main(n_listeners: int, writes: int) -> None:
    name = f"robian_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    runner: web.AppRunner | None = None
    try:
        conn = await connect(dsn)
        await migrate(conn)
        debates = [await create_debate(conn) for _ in range(n_listeners)]
        await conn.close()
        port = free_port()
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                _env_file=None,
                database_url=dsn,
                data_dir=Path(tmp),
                admin_token="bench-admin-token-0123456789",
                log_json=False,
                rate_limit_per_minute=0,
                device_registrations_per_address=100_000,
            )
            runner = web.AppRunner(create_app(settings), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                spread = await listeners(session, base, debates, writes)
                hot = await listeners(session, base, [debates[0]] * n_listeners, writes)
                singles = await offline_sync(session, base, debates, batch=False)
                batched = await offline_sync(session, base, debates, batch=True)
            await runner.cleanup()
            runner = None
    finally:
        if runner is not None:
            await runner.cleanup()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    print(f"{n_listeners} listeners x {writes} PUTs, concurrent")
    print(f"  distinct debates : {spread:8.0f} writes/s")
    print(f"  one shared debate: {hot:8.0f} writes/s   (ratio {hot / spread:.2f} of distinct)")
    print(f"offline sync of {n_listeners * 10} writes by one device")
    print(f"  single PUTs      : {singles:8.3f} s")
    print(f"  batches of 500   : {batched:8.3f} s   (batch {singles / batched:.1f}x faster)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=32)
    parser.add_argument("--writes", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.listeners, args.writes))

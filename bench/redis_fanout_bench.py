"""Cross-node transport for events: Redis stream reads (ours) vs pub/sub, side by side.

Both variants append the event to its channel's replay stream in one Lua script; they differ in how
API nodes hear about it:

- stream: the script also XADDs to the fan-out stream; each node blocks in XREAD on it (ours);
- pubsub: the script PUBLISHes the event; each node holds a SUBSCRIBE connection.

Measured with ``--nodes`` readers (one connection each, as one per API node): publish → reader
latency for events paced 1 ms apart, and the publish rate of back-to-back publishes.

    .venv/bin/python bench/redis_fanout_bench.py [--events 3000] [--nodes 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from robian_media.events.redis_bus import PUBLISH_LUA

PUBSUB_LUA = """
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 't', ARGV[2], 's', ARGV[3], 'd', ARGV[4])
redis.call('PUBLISH', KEYS[1], ARGV[4])
return 1
"""


async def stream_reader(url: str, key: str, sink: list[float], count: int) -> None:
    client = Redis.from_url(url)
    last = "$"
    try:
        while len(sink) < count:
            reply = await client.xread({key: last}, block=2000, count=1000)
            now = time.monotonic()
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    last = entry_id
                    sink.append(now - json.loads(fields[b"d"])["t"])
    finally:
        await client.aclose()


async def pubsub_reader(url: str, key: str, sink: list[float], count: int, ready: asyncio.Event) -> None:
    client = Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(key)
    ready.set()
    try:
        while len(sink) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
            if message is not None:
                sink.append(time.monotonic() - json.loads(message["data"])["t"])
    finally:
        await pubsub.aclose()
        await client.aclose()


async def variant(name: str, url: str, prefix: str, events: int, nodes: int) -> dict[str, Any]:
    publisher = Redis.from_url(url)
    script = publisher.register_script(PUBLISH_LUA if name == "stream" else PUBSUB_LUA)
    fanout, channel = f"{prefix}{name}:all", f"{prefix}{name}:ch:jobs"
    sinks: list[list[float]] = [[] for _ in range(nodes)]
    readers = []
    for sink in sinks:
        if name == "stream":
            readers.append(asyncio.create_task(stream_reader(url, fanout, sink, events)))
        else:
            ready = asyncio.Event()
            readers.append(asyncio.create_task(pubsub_reader(url, fanout, sink, events, ready)))
            await ready.wait()
    await asyncio.sleep(0.3)  # stream readers are blocked in XREAD $

    async def publish() -> None:
        data = json.dumps({"t": time.monotonic(), "job_id": "j", "stage": "packaging", "progress": 0.5})
        await script(
            keys=[fanout, channel], args=["jobs", "job.progress", "ts", data, 1000, 100_000, 3_600_000]
        )

    for _ in range(events):
        await publish()
        await asyncio.sleep(0.001)
    await asyncio.wait_for(asyncio.gather(*readers), 30)
    latencies = sorted(x for sink in sinks for x in sink)

    started = time.perf_counter()
    for _ in range(events):
        await publish()
    rate = events / (time.perf_counter() - started)
    await publisher.delete(fanout, channel)
    await publisher.aclose()
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "publish_per_s": rate,
    }


async def main(args: argparse.Namespace) -> None:
    url = os.environ.get("ROBIAN_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    prefix = f"robian-bench:{uuid.uuid4().hex[:8]}:"
    results = {
        name: await variant(name, url, prefix, args.events, args.nodes) for name in ("stream", "pubsub")
    }
    print(f"{args.events} events, {args.nodes} reading nodes")
    for name, r in results.items():
        print(
            f"{name:7} p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  publish {r['publish_per_s']:.0f}/s"
        )
    s, p = results["stream"], results["pubsub"]
    print(
        f"stream/pubsub: p50 ×{s['p50_ms'] / p['p50_ms']:.2f}, p99 ×{s['p99_ms'] / p['p99_ms']:.2f}, "
        f"publish rate ×{s['publish_per_s'] / p['publish_per_s']:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--nodes", type=int, default=4)
    asyncio.run(main(parser.parse_args()))

"""Where a request's CPU goes in each server of ``api_bench.py``: our code, aiohttp, the database and
Redis drivers, or the kernel's socket calls, sampled side by side in one run.

    .venv/bin/python bench/api_profile.py [--duration 10] [--rate 500]

Starts the same servers as ``api_bench.py`` (bare hello world, hello inside ``create_app``, the
debates list cached and uncached), loads each alone with ``wrk -t1 -c64`` while py-spy samples it,
and sorts every sample by who was running:

- ``socket send`` / ``socket receive``: the kernel's ``send``/``recv`` on loopback (on this VM the
  kernel delivers the bytes to the peer inside the call, so it is the largest single cost);
- ``event loop``: waiting in ``epoll`` and asyncio's scheduling of callbacks and tasks;
- ``aiohttp``: parsing, routing, middleware plumbing, response headers;
- ``asyncpg`` / ``redis``: the drivers' own Python (their socket calls count as socket calls);
- ``robian_media``: our code, and what it calls outside those libraries (the standard library,
  pydantic…).

Each share times the server's CPU per request gives microseconds, so the difference between the
stack and hello world is split into what our code costs and what it does not.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import LIST_PATH, Server, seeded_api_env  # noqa: E402

from tests.services import wait_for_port  # noqa: E402

SEND = "socket send"
RECEIVE = "socket receive"
LOOP = "event loop"
OURS = "robian_media"
OWNERS = ("aiohttp", "asyncpg", "redis", LOOP)
COLUMNS = (OURS, "aiohttp", "asyncpg", "redis", SEND, RECEIVE, LOOP, "other")
# the frames that are the kernel's socket calls (py-spy shows the Python line that makes the call)
SYSCALL_FRAMES = {
    "_SelectorSocketTransport.write": SEND,
    "WriteTransport.writelines": SEND,
    "_SelectorSocketTransport._read_ready__data_received": RECEIVE,
    "_SelectorSocketTransport._read_ready__get_buffer": RECEIVE,
}


def owner(stack: list[str]) -> str:
    """Who a sample is charged to: a socket call, else the deepest frame of ours or of a library
    (the standard library and helpers like pydantic count for whoever called them)."""
    leaf = stack[-1]
    for frame, kind in SYSCALL_FRAMES.items():
        if leaf.startswith(frame + " "):
            return kind
    if leaf.startswith("EpollSelector.select "):
        return LOOP
    for frame in reversed(stack):
        if "robian_media/" in frame:
            return OURS
        for name in OWNERS:
            if ("asyncio/" if name == LOOP else f"{name}/") in frame:
                return name
    return "other"


def profile(server: Server, duration: int, rate: int, out: Path) -> tuple[Counter[str], float]:
    py_spy = str(Path(sys.executable).parent / "py-spy")
    sampling = ["--nonblocking", "-r", str(rate), "-d", str(duration + 1), "-f", "raw"]
    spy = subprocess.Popen(
        [py_spy, "record", *sampling, "-o", str(out), "-p", str(server.proc.pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    measure = server.measure(duration, 64)
    spy.wait()
    shares: Counter[str] = Counter()
    for line in out.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        shares[owner(stack.split(";"))] += int(count)
    return shares, measure.cpu_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rate", type=int, default=500, help="samples a second")
    args = parser.parse_args()
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
            raise SystemExit(f"{tool} is not installed (make install-dev, tests/setup-machine.sh)")
    with seeded_api_env() as base:
        runs = {
            "hello": ("hello", {}, "/hello"),
            "hello+stack": ("api", base, "/hello"),
            "list cached": ("api", base, LIST_PATH),
            "list uncached": ("api", {**base, "ROBIAN_CACHE_ENABLED": "false"}, LIST_PATH),
        }
        results: dict[str, tuple[Counter[str], float]] = {}
        for name, (kind, env, path) in runs.items():
            server = Server(kind, env, path)
            try:
                wait_for_port(server.port, timeout=60)
                server.measure(2, 64)  # warm up
                results[name] = profile(
                    server, args.duration, args.rate, Path(base["ROBIAN_DATA_DIR"]) / "samples.txt"
                )
            finally:
                server.stop()

    print(f"\nµs of server CPU per request, by who ran (py-spy at {args.rate} Hz under wrk -t1 -c64)")
    print(f"{'server':<14} {'total':>7} " + " ".join(f"{c:>14}" for c in COLUMNS))
    micro: dict[str, dict[str, float]] = {}
    for name, (shares, cpu_us) in results.items():
        total = sum(shares.values()) or 1
        micro[name] = {c: cpu_us * shares[c] / total for c in COLUMNS}
        print(f"{name:<14} {cpu_us:>7.1f} " + " ".join(f"{micro[name][c]:>14.1f}" for c in COLUMNS))
    hello, stack = results["hello"][1], results["hello+stack"][1]
    print(
        f"\nthe stack costs {stack - hello:.1f} µs a request more than hello world; our code's own "
        f"frames are {micro['hello+stack'][OURS]:.1f} µs of it"
    )


if __name__ == "__main__":
    main()

"""LL-HLS load benchmark (not a test): do many low-latency players slow an unrelated API request?

    python bench/ll_hls_load_bench.py [--clients 1000] [--seconds 20] [--hours 8] [--via edge|api]

In one run, side by side:
  - a writer process plays the worker: an EVENT playlist of an ``--hours``-long live sitting (2 s
    segments of four 0.5 s parts: 14 400 segments for 8 hours), a new part every 0.5 s, each part
    renamed into place before the playlist names it, as packager/live does;
  - ``robian-media``'s app in its own process (create_app, in-process bus, PostgreSQL on 127.0.0.1);
  - a probe (this process) asking ``GET /api/v1/debates?limit=20`` every 50 ms, first with no player
    (idle), then while a load process runs ``--clients`` players, each as hls.js does in low-latency
    mode: a blocking reload for the next part with a delta update
    (``?_HLS_msn=M&_HLS_part=P&_HLS_skip=YES``) and, at the same time, the hinted part; each player
    has its own address (X-Forwarded-For from our loopback proxy), as real players would.

``--via edge`` (the default, the production shape): players and probe go through the nginx origin +
edge cache that ``robian-media nginx-conf`` renders; identical LL-HLS requests (same ``_HLS_msn``,
``_HLS_part``, ``_HLS_skip``; any other query is dropped from the key) collapse into one request to
the API. ``--via api``: straight to aiohttp, every player's request reaching the event loop.

Prints the probe's p50/p99 idle and under load, their ratio (goal: p99 under load ≤ 2 × idle, issue
#22), the players' answers (statuses, reloads a second) and the server's CPU share.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from packager.atomic import write_atomic
from packager.live.playlist import LivePart, LivePlaylistState, LiveSegment, live_playlist
from packager.live.reload import playlist_position
from packager.playlists import iso_date
from robian_media.db.migrate import migrate
from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.settings import Settings
from tests.factories import connect, create_debate
from tests.services import NginxServer, free_port, fresh_database, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
RUNG = "benchlive/v1/a64"
PART_S = 0.5
PARTS = 4  # per segment
PROBE_PATH = "/api/v1/debates?limit=20"
HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_(\d+)_(\d+)\.m4s"')


def preload_hint(text: str) -> tuple[int, int] | None:
    """The player's side: which part the playlist hints (its own parser, like hls.js)."""
    found = HINT.search(text)
    return (int(found[1]), int(found[2])) if found else None


# -- the worker's side: a growing playlist ---------------------------------------------------------
WINDOW = 30  # segments the packager's writer renders each time; older ones are kept rendered (cheap writer)


def write_live(media_root: Path, hours: float, stop: multiprocessing.synchronize.Event) -> None:
    directory = media_root / RUNG
    directory.mkdir(parents=True)
    write_atomic(directory / "init.mp4", b"init")
    starts = datetime(2026, 1, 1, 14, tzinfo=UTC)
    segment_s = PARTS * PART_S
    state = LivePlaylistState(
        kind="fmp4",
        init_uri="init.mp4",
        segment_target=segment_s,
        part_target=PART_S,
        starts_at=starts,
        next_part_uri=None,
    )
    old: list[str] = []  # segments before the window, as packager/live/playlist.py writes them

    def add_segment(number: int, parts: list[LivePart]) -> None:
        start = number * segment_s
        state.segments.append(
            LiveSegment(
                number, f"seg_{number}.m4s", segment_s, start, starts + timedelta(seconds=start), parts
            )
        )
        if len(state.segments) > WINDOW:
            gone = state.segments.pop(0)
            old.append(
                f"#EXT-X-PROGRAM-DATE-TIME:{iso_date(gone.pdt)}\n#EXTINF:{gone.duration:.6f},\n{gone.uri}\n"
            )

    def write() -> None:
        # the packager's playlist of the window, with the older segments put back in front
        text = live_playlist(state, []).replace(
            f"#EXT-X-MEDIA-SEQUENCE:{state.segments[0].number}\n", "#EXT-X-MEDIA-SEQUENCE:0\n"
        )
        first = text.index("#EXT-X-PROGRAM-DATE-TIME:")
        write_atomic(directory / "index.m3u8", text[:first] + "".join(old) + text[first:])

    for number in range(int(hours * 3600 / segment_s)):
        add_segment(number, [])
    number = len(old) + len(state.segments)
    state.next_part_uri = f"part_{number}_0.m4s"
    write()
    data = os.urandom(4000)  # 0.5 s at 64 kbit/s
    next_at = time.monotonic()
    while not stop.is_set():
        next_at += PART_S
        time.sleep(max(0.0, next_at - time.monotonic()))
        index = len(state.open_parts)
        assert state.next_part_uri is not None
        write_atomic(directory / state.next_part_uri, data)
        state.open_parts.append(LivePart(state.next_part_uri, PART_S))
        state.next_part_uri = f"part_{number}_{index + 1}.m4s"
        if len(state.open_parts) == PARTS:
            write_atomic(directory / f"seg_{number}.m4s", data * PARTS)
            add_segment(number, state.open_parts)
            state.open_parts = []
            number += 1
            state.next_part_uri = f"part_{number}_0.m4s"
        write()


# -- the server ------------------------------------------------------------------------------------
def serve(port: int) -> None:
    from robian_media.app import create_app

    app = create_app(Settings())  # from the ROBIAN_* environment the parent sets
    profile_to = os.environ.get("BENCH_PROFILE")  # where the server's cProfile statistics go
    profiler = cProfile.Profile() if profile_to else None
    if profiler is not None:
        profiler.enable()
    try:
        web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_to)


def start_edge(media: Path, api_port: int, tmp: Path) -> NginxServer:
    """The nginx origin + edge of ``robian-media nginx-conf`` in front of the API."""
    prefix = tmp / "nginx"
    prefix.mkdir()
    listen, edge = Address("127.0.0.1", free_port()), Address("127.0.0.1", free_port())
    user = {"nginx_user": "root"} if os.geteuid() == 0 else {}
    settings = Settings(_env_file=None, data_dir=tmp, media_root_dir=media, **user)
    layout = NginxLayout(
        listen=listen, upstreams=[Address("127.0.0.1", api_port)], edge_listen=edge, prefix=prefix
    )
    config = prefix / "nginx.conf"
    config.write_text(render_nginx_conf(settings, layout))
    return NginxServer(config, prefix, [listen.port, edge.port]).start()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the players -----------------------------------------------------------------------------------
async def player(
    session: aiohttp.ClientSession, base: str, number: int, statuses: Counter[str], stop: asyncio.Event
) -> None:
    headers = {"X-Forwarded-For": f"198.18.{number // 250}.{number % 250 + 1}"}
    playlist = f"{base}/hls/{RUNG}/index.m3u8"
    async with session.get(playlist, params={"_HLS_skip": "YES"}, headers=headers) as response:
        text = await response.text()
    while not stop.is_set():
        position, hint = playlist_position(text), preload_hint(text)
        wanted = {
            "_HLS_msn": str(position.next_msn),
            "_HLS_part": str(position.open_parts),
            "_HLS_skip": "YES",
        }

        async def fetch_hint(hint: tuple[int, int] | None) -> None:
            if hint is None:
                return
            async with session.get(
                f"{base}/hls/{RUNG}/part_{hint[0]}_{hint[1]}.m4s", headers=headers
            ) as part:
                await part.read()
                statuses[f"part {part.status}"] += 1

        hinted = asyncio.create_task(fetch_hint(hint))
        try:
            async with session.get(playlist, params=wanted, headers=headers) as response:
                body = await response.text()
                statuses[f"reload {response.status}"] += 1
                if response.status == 200:
                    text = body
                else:
                    await asyncio.sleep(1)
            await hinted
        except aiohttp.ClientError as exc:
            statuses[f"error {type(exc).__name__}"] += 1
            await asyncio.sleep(1)


async def run_players(base: str, clients: int, seconds: float) -> None:
    statuses: Counter[str] = Counter()
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(player(session, base, n, statuses, stop)) for n in range(clients)]
        await asyncio.sleep(seconds)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(" ".join(f"{k}={v}" for k, v in sorted(statuses.items())), flush=True)


# -- the probe -------------------------------------------------------------------------------------
async def probe(base: str, seconds: float) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(base + PROBE_PATH) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    return latencies


def summary(latencies: list[float]) -> tuple[float, float, float]:
    if len(latencies) < 2:  # the API hardly answered at all
        worst = max(latencies, default=float("inf"))
        return worst, worst, worst
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98], max(latencies)


async def seed(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        for i in range(40):
            await create_debate(conn, title=f"Séance n° {i}")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--via", choices=("edge", "api"), default="edge")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--players", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.players:
        asyncio.run(run_players(args.players, args.clients, args.seconds))
        return

    pg = os.environ.get("ROBIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with (
        fresh_database(pg, f"robian_bench_{uuid.uuid4().hex[:8]}") as dsn,
        tempfile.TemporaryDirectory() as tmp,
    ):
        asyncio.run(seed(dsn))
        media = Path(tmp) / "media"
        stop = multiprocessing.Event()
        writer = multiprocessing.Process(target=write_live, args=(media, args.hours, stop), daemon=True)
        writer.start()
        while not (media / RUNG / "index.m3u8").exists():
            time.sleep(0.1)
        size = (media / RUNG / "index.m3u8").stat().st_size
        port = free_port()
        env = {
            **os.environ,
            "ROBIAN_DATABASE_URL": dsn,
            "ROBIAN_DATA_DIR": tmp,
            "ROBIAN_MEDIA_ROOT": str(media),
            "ROBIAN_ADMIN_TOKEN": "bench-admin-token-0123456789",
            "ROBIAN_RATE_LIMIT_PER_MINUTE": "0",
            "ROBIAN_WORKERS": "0",
            "ROBIAN_LOG_LEVEL": "WARNING",
        }
        env.pop("ROBIAN_REDIS_URL", None)
        if args.via == "edge":
            env["ROBIAN_BEHIND_NGINX"] = "true"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        players = nginx = None
        out_api = ""
        try:
            wait_for_port(port, timeout=60)
            api = base  # the probe always asks the API itself: its event loop is what is measured
            if args.via == "edge":
                nginx = start_edge(media, port, Path(tmp))
                base = f"http://127.0.0.1:{nginx.ports[1]}"
            asyncio.run(probe(api, 2))  # warm up: pools, caches
            print(f"live playlist: {size / 1e6:.1f} MB ({args.hours:g} h), a new part every {PART_S} s")
            idle = asyncio.run(probe(api, args.seconds))
            players = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--players",
                    base,
                    "--clients",
                    str(args.clients),
                    "--seconds",
                    str(args.seconds + 8),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(5)  # every player connected and waiting
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            loaded = asyncio.run(probe(api, args.seconds))
            cpu_share = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - wall_before)
            out, _ = players.communicate(timeout=120)
        finally:
            if players is not None and players.poll() is None:
                players.kill()
                players.wait()
            if nginx is not None:
                nginx.stop()
                log = (Path(tmp) / "nginx" / "access.log").read_text().splitlines()
                to_api = sum('"GET /hls/' in line and "upstream=127.0.0.1" in line for line in log)
                out_api = f"; the API answered {to_api} of them (edge and origin took the rest)"
            server.terminate()
            server.wait(timeout=30)
            stop.set()
            writer.join(timeout=10)
        (i50, i99, imax), (l50, l99, lmax) = summary(idle), summary(loaded)
        print(f"via {args.via}; players ({args.clients}, {args.seconds + 8:g} s): {out.strip()}{out_api}")
        print(f"GET {PROBE_PATH}  idle: p50 {i50:.1f} ms  p99 {i99:.1f} ms  max {imax:.1f} ms  ", end="")
        print(f"({len(idle)} requests)")
        print(
            f"  with {args.clients} LL-HLS players: p50 {l50:.1f} ms  p99 {l99:.1f} ms  max {lmax:.1f} ms  "
            f"({len(loaded)} requests; server CPU {cpu_share:.0%} of a core)"
        )
        print(f"  ratio loaded/idle: p50 {l50 / i50:.2f}  p99 {l99 / i99:.2f}  (goal: p99 ≤ 2)")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

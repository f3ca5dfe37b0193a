"""Clips and podcast feeds, each beside its baseline in one run (issue #18's figures).

    .venv/bin/python bench/podcast_bench.py [--minutes 10] [--duration 10] [--rounds 3]
                                            [--skip-clip] [--skip-feeds]

Clip: a synthesised sitting of ``--minutes`` is packaged (speech ladder, the packager as ingest runs it),
then its top rung is laid end to end, by box surgery, into a 4-hour rung (the same segments, decode
times rewritten). A clip of 30 minutes (1:00:00–1:30:00) is cut from it as a first request does (no
clip on disk; ``packager.clip.write_clip``), and compared with the packaging time of a 4-hour sitting,
extrapolated linearly from the measured one (encoding dominates and is linear in duration). Goal: ≤ 2 %.

Feeds: a throw-away database with 150 published sittings (12 interventions each), then ``wrk -t1`` on
one server process at a time, in interleaved rounds (best kept), as bench/api_bench.py does: aiohttp's
hello world, ``GET /api/v1/feeds/debates.rss`` (100 items) cached, and uncached
(``ROBIAN_CACHE_ENABLED=false``, every request builds the XML from PostgreSQL); the uncached p50 is
measured with one connection (a request's own latency, no queueing). Goals: cached ≥ 50 % of hello's
req/s; uncached p50 ≤ 50 ms. Needs PostgreSQL, Redis and wrk, like api_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_bench import Measure, Server, seeded_api_env  # noqa: E402
from packager.clip import write_clip  # noqa: E402
from packager.cmaf import read_track, to_media_segment  # noqa: E402
from packager.ffmpeg import default_ffmpeg  # noqa: E402
from packager.rendition import Rendition, build_rendition  # noqa: E402
from packager.synth import STARTS_AT, make_sitting  # noqa: E402
from robian_media.db.migrate import migrate  # noqa: E402
from tests.factories import connect, create_chapters, create_debate, create_speaker  # noqa: E402
from tests.services import wait_for_port  # noqa: E402

SITTING_S = 4 * 3600
CLIP = (3600.0, 5400.0)
FEED_PATH = "/api/v1/feeds/debates.rss"
CLIP_GOAL = 0.02
CACHED_GOAL = 0.50
UNCACHED_P50_GOAL_MS = 50.0
GZIP = ("Accept-Encoding: gzip",)


# -- clip ------------------------------------------------------------------------------------------
def package_sitting(work: Path, ffmpeg: str, minutes: float) -> tuple[Rendition, float]:
    repeat = max(1, math.ceil(minutes * 60 / 36.6))  # the synthesised round of 4 speakers lasts ≈ 36.6 s
    sitting = make_sitting(work / "source", ffmpeg, repeat=repeat)
    started = time.monotonic()
    rendition = asyncio.run(
        build_rendition(
            sitting.path,
            work / "v1",
            ladder="speech",
            chapters=sitting.chapters,
            starts_at=STARTS_AT,
            ffmpeg=ffmpeg,
        )
    )
    return rendition, time.monotonic() - started


def tile_rung(rung: Path, target: Path, seconds: float) -> float:
    """``rung``'s segments laid end to end into ``target`` until it lasts ``seconds``; its duration."""
    target.mkdir(parents=True)
    init = (rung / "init.mp4").read_bytes()
    (target / "init.mp4").write_bytes(init)
    track = read_track(init)
    names = re.findall(r"^(seg_\d+\.m4s)$", (rung / "index.m3u8").read_text(), re.M)
    segments = [(rung / name).read_bytes() for name in names]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
    lines.append('#EXT-X-MAP:URI="init.mp4"')
    decode_time, sequence, number = 0, 1, 0
    while decode_time < seconds * track.timescale:
        for data in segments:
            fragment = to_media_segment(data, track, decode_time, sequence)
            (target / f"seg_{number}.m4s").write_bytes(fragment.data)
            lines += [f"#EXTINF:{fragment.duration / track.timescale:.6f},", f"seg_{number}.m4s"]
            decode_time += fragment.duration
            sequence += 1
            number += 1
    lines.append("#EXT-X-ENDLIST")
    (target / "index.m3u8").write_text("\n".join(lines) + "\n")
    return decode_time / track.timescale


def probe_duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)


def bench_clip(minutes: float) -> dict[str, float]:
    ffmpeg = default_ffmpeg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rendition, packaging_s = package_sitting(work, ffmpeg, minutes)
        top = max(
            (v for v in rendition.variants if v.kind == "fmp4"), key=lambda v: v.bandwidth
        ).uri.rpartition("/")[0]
        tiled = tile_rung(rendition.directory / top, work / "four-hours" / top, SITTING_S)
        started = time.monotonic()
        cut = asyncio.run(
            write_clip(ffmpeg, work / "four-hours" / top, work / "clip.m4a", start=CLIP[0], end=CLIP[1])
        )
        clip_s = time.monotonic() - started
        clip_duration = probe_duration(work / "clip.m4a")
    per_second = packaging_s / rendition.duration
    four_hours_s = per_second * SITTING_S
    ratio = clip_s / four_hours_s
    print(
        f"\npackaging {rendition.duration / 60:.1f} min (speech ladder): {packaging_s:.1f} s "
        f"→ a 4-hour sitting ≈ {four_hours_s:.0f} s (extrapolated)"
    )
    print(
        f"clip {CLIP[0]:.0f}–{CLIP[1]:.0f} s of a {tiled / 3600:.2f} h rung ({top}), first request: "
        f"{clip_s:.2f} s; cut {cut.start:.3f}–{cut.end:.3f} s, ffprobe {clip_duration:.3f} s"
    )
    verdict = "met" if ratio <= CLIP_GOAL else "NOT met"
    print(f"clip / packaging of the sitting: {ratio:.2%} (goal ≤ {CLIP_GOAL:.0%}: {verdict})")
    return {"packaging_s": packaging_s, "four_hours_s": four_hours_s, "clip_s": clip_s, "ratio": ratio}


# -- feeds -----------------------------------------------------------------------------------------
async def seed(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await migrate(conn)
        speakers = [await create_speaker(conn, f"Député {i}", group_abbrev="EXDS") for i in range(20)]
        start = dt.datetime(2026, 1, 5, 14, tzinfo=dt.UTC)
        variants = [
            {"name": "a128", "kind": "fmp4", "uri": "a128/index.m3u8", "bandwidth": 140000,
             "average_bandwidth": 128000, "codecs": "mp4a.40.2"},
        ]  # fmt: skip
        for i in range(150):
            debate = await create_debate(
                conn,
                title=f"Séance publique n° {i} : « projet de loi » & amendements",
                starts_at=start + dt.timedelta(hours=7 * i),
                duration=4 * 3600.0,
                variants=variants,
            )
            await create_chapters(
                conn,
                debate,
                [
                    {
                        "start": 1200.0 * k,
                        "end": 1200.0 * (k + 1),
                        "speaker_id": speakers[(i + k) % 20],
                        "title": f"Intervention {k}",
                    }
                    for k in range(12)
                ],
            )
    finally:
        await conn.close()


def wrk_p50(url: str, duration: int) -> tuple[float, int]:
    """(p50 latency ms, requests) with one connection: a request's own time, no queueing."""
    out = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{duration}s", "--latency", "-H", GZIP[0], url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    value, unit = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], total


def bench_feeds(duration: int, rounds: int, connections: int) -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (tests/setup-machine.sh installs it)")
    with seeded_api_env(seed) as env:
        base = {**env, "ROBIAN_RATE_LIMIT_PER_MINUTE": "0", "ROBIAN_WORKERS": "0"}
        runs = {
            "hello": ("hello", {}, "/hello"),
            "feed cached": ("api", base, FEED_PATH),
            "feed uncached": ("api", {**base, "ROBIAN_CACHE_ENABLED": "false"}, FEED_PATH),
        }
        # as podcast apps and aggregators ask
        servers = {name: Server(kind, env, path, GZIP) for name, (kind, env, path) in runs.items()}
        # latency on its own server, never loaded by 64 connections (whose backlog outlives wrk)
        idle = Server("api", {**base, "ROBIAN_CACHE_ENABLED": "false"}, FEED_PATH, GZIP)
        measured: dict[str, list[Measure]] = {name: [] for name in servers}
        p50s: list[float] = []
        try:
            for server in servers.values():
                wait_for_port(server.port, timeout=60)
                server.measure(2, connections)  # warm up: pools, caches
            wait_for_port(idle.port, timeout=60)
            wrk_p50(idle.url, 2)
            with urllib.request.urlopen(servers["feed cached"].url) as resp:
                items = resp.read().count(b"<item>")
            for number in range(1, rounds + 1):
                p50, total = wrk_p50(idle.url, max(2, duration // 2))
                if total:
                    p50s.append(p50)
                print(f"  round {number} feed uncached, one connection: p50 {p50:.1f} ms ({total} requests)")
                for name, server in servers.items():
                    m = server.measure(duration, connections)
                    measured[name].append(m)
                    print(f"  round {number} {name:<14} {m.rps:>9.0f} req/s  p99 {m.p99_ms:7.2f} ms")
        finally:
            for server in [*servers.values(), idle]:
                server.stop()
    best = {name: max(ms) for name, ms in measured.items()}
    hello = best["hello"]
    cached_ratio = best["feed cached"].rps / hello.rps
    p50 = min(p50s) if p50s else math.inf
    print(f"\nload average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores")
    print(f"wrk -t1 -c{connections} -d{duration}s, best of {rounds} interleaved rounds; {items} items")
    # CPU time of the server process per request: what a busy machine disturbs least
    cpu = {name: min(m.cpu_us for m in ms) for name, ms in measured.items()}
    for name, m in best.items():
        print(
            f"{name:<14} {m.rps:>9.0f} req/s {m.rps / hello.rps:>7.1%} of hello  p99 {m.p99_ms:8.2f} ms  "
            f"{cpu[name]:8.1f} µs CPU/request ({cpu['hello'] / cpu[name]:.1%} of hello's throughput per core)"
        )
    verdict = "met" if cached_ratio >= CACHED_GOAL else "NOT met"
    print(f"cached feed ≥ {CACHED_GOAL:.0%} of hello: {verdict} ({cached_ratio:.1%})")
    print(
        f"uncached feed p50 (one connection) {p50:.1f} ms, goal ≤ {UNCACHED_P50_GOAL_MS:.0f} ms: "
        f"{'met' if p50 <= UNCACHED_P50_GOAL_MS else 'NOT met'}"
    )
    return {
        "items": items,
        "cpu_us": {n: round(c, 1) for n, c in cpu.items()},
        "rps": {n: round(m.rps) for n, m in best.items()},
        "cached_ratio": cached_ratio,
        "uncached_p50_ms": p50,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the sitting actually packaged")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--skip-clip", action="store_true")
    parser.add_argument("--skip-feeds", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {}
    if not args.skip_clip:
        results["clip"] = bench_clip(args.minutes)
    if not args.skip_feeds:
        results["feeds"] = bench_feeds(args.duration, args.rounds, args.connections)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

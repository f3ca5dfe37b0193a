"""Live edge delay benchmark (not a test): how long after the source emitted a sample can it be played?

    python bench/live_edge_bench.py [--seconds 40] [--source-segment 2] [--part 0.5] [--node-modules DIR]
                                    [--s3]

A live source on 127.0.0.1 (FFmpeg ``-re`` from synthesised speech writing a growing HLS playlist with
PROGRAM-DATE-TIME, i.e. known emission times) feeds ``robian-media serve`` (embedded PostgreSQL,
in-process worker and event bus), and in one run the script measures:

  - source: when each source segment is listed by the source itself, minus its PROGRAM-DATE-TIME
    (the delay every HLS source imposes before anyone can read it: about its segment duration);
  - LL-HLS: blocking reloads (``_HLS_msn``/``_HLS_part``) on one rung; when a part is listed, minus
    the emission time of its first sample (worst sample) and of its last one (best sample);
  - plain HLS: the same rung polled every 100 ms; when a whole segment is listed, minus the emission
    times of its first and last samples;
  - a player's latency estimate: the newest sample's availability delay plus the hold-back a player
    keeps (PART-HOLD-BACK for LL-HLS, 3 target durations for plain HLS, as hls.js does by default);
  - hls.js in Chromium (with ``--node-modules`` holding playwright-core and hls.js): wall clock minus
    ``hls.playingDate`` (the PROGRAM-DATE-TIME of the sample being heard), low-latency mode on (without
    and with catching up at 1.5× speed, ``maxLiveSyncPlaybackRate``) and off;
  - speaker change → ``live.speaker`` event on an SSE listener, and → DATERANGE in the playlist;
  - the playlist watch's own share: how long after the playlist file changed the blocking reload answered.

With --s3, a second ``robian-media serve`` with the s3 store (moto's server on loopback) records the
same source at the same time: its worker uploads each part and playlist to the bucket and its API
answers the blocking reloads from there (told by the bus); its LL-HLS and plain HLS figures are
printed beside the file store's. Each server has its own embedded PostgreSQL and in-process event bus
(so --s3 does not take --database-url: one database would let either worker take the other's sitting).

Goals (issue #8): ≤ 3 s with LL-HLS, ≤ 8 s plain HLS, speaker event ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-admin-token-0123456789abcdef"
TEXT = (
    "Madame la présidente, mes chers collègues, ce texte répond à une attente forte de nos territoires. "
    "L'article premier crée un guichet unique dans chaque département, et je donne la parole au rapporteur."
)
PDT = re.compile(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)")
HLS_PAGE = """<!doctype html><meta charset="utf-8"><audio id="a" muted></audio>
<script src="hls.js"></script>
<script>
window.start = (url, lowLatency, catchUp) => {
  const hls = new Hls({ lowLatencyMode: lowLatency, maxLiveSyncPlaybackRate: catchUp });
  window.hls = hls;
  hls.loadSource(url);
  hls.attachMedia(document.getElementById('a'));
  hls.on(Hls.Events.MANIFEST_PARSED, () => document.getElementById('a').play());
};
window.latency = () => (window.hls && window.hls.playingDate
  ? Date.now() - window.hls.playingDate.getTime() : null);
</script>"""
NODE_SCRIPT = r"""
import { createRequire } from 'node:module';
import path from 'node:path';
const [modules, page_url, master, seconds] = process.argv.slice(2);
const { chromium } = createRequire(path.join(modules, 'noop.js'))('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required'] });
for (const [low, catchUp] of [[true, 1], [true, 1.5], [false, 1], [false, 1.5]]) {
  const page = await browser.newPage();
  await page.goto(page_url);
  await page.evaluate(([m, l, c]) => window.start(m, l, c), [master, low, catchUp]);
  const samples = [];
  const until = Date.now() + Number(seconds) * 1000;
  await page.waitForTimeout(8000);  // let the player settle on its target latency
  while (Date.now() < until + 8000) {
    const value = await page.evaluate(() => window.latency());
    if (value !== null) samples.push(value / 1000);
    await page.waitForTimeout(500);
  }
  process.stdout.write(JSON.stringify({ low_latency: low, catch_up: catchUp, samples }) + '\n');
  await page.close();
}
await browser.close();
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def date(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Media:
    uri: str
    start: float  # emission time of the first sample (epoch seconds)
    duration: float


def parse(body: str) -> tuple[list[Media], list[Media]]:
    """(segments, parts) of a playlist, each with the emission time of its first sample."""
    segments: list[Media] = []
    parts: list[Media] = []
    current = offset = 0.0
    duration = 0.0
    for line in body.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            current, offset = date(line.split(":", 1)[1]), 0.0
        elif line.startswith("#EXT-X-PART:"):
            part_duration = float(re.search(r"DURATION=([\d.]+)", line).group(1))  # type: ignore[union-attr]
            uri = re.search(r'URI="([^"]+)"', line).group(1)  # type: ignore[union-attr]
            parts.append(Media(uri, current + offset, part_duration))
            offset += part_duration
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            segments.append(Media(line, current, duration))
            current, offset = current + duration, 0.0
    return segments, parts


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<52} (no samples)"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"{name:<52} n={len(values):<4} mean {statistics.mean(values):6.3f} s  "
        f"p50 {statistics.median(values):6.3f}  p95 {p95:6.3f}  max {max(values):6.3f}"
    )


async def wait_http(session: aiohttp.ClientSession, url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(url) as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


async def watch_source(
    session: aiohttp.ClientSession,
    url: str,
    stop: asyncio.Event,
    out: list[float],
    listed: list[tuple[Media, float]],
) -> None:
    seen: set[str] = set()
    while not stop.is_set():
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(url) as resp:
                body = await resp.text()
            now = time.time()
            for segment in parse(body)[0]:
                if seen and segment.uri not in seen:
                    out.append(now - segment.start)
                    listed.append((segment, now))
                seen.add(segment.uri)
        await asyncio.sleep(0.05)


def pipeline(
    listed: list[tuple[Media, float]], parts: list[tuple[Media, float]]
) -> tuple[list[float], list[float]]:
    """Per source segment: from the source listing it to our part holding its first sample, and to our
    part holding its sample 0.1 s before its end (FFmpeg's encoder keeps its last 2-3 frames until more
    input comes, so the very last samples go out with the next source segment)."""

    def listed_at(instant: float) -> float | None:
        return next((t for part, t in parts if part.start <= instant < part.start + part.duration), None)

    first: list[float] = []
    last: list[float] = []
    for segment, seen in listed:
        begin, end = listed_at(segment.start + 1e-3), listed_at(segment.start + segment.duration - 0.1)
        if begin is not None and end is not None:
            first.append(begin - seen)
            last.append(end - seen)
    return first, last


async def blocking_loop(
    session: aiohttp.ClientSession,
    url: str,
    stop: asyncio.Event,
    first: list[float],
    last: list[float],
    listed: list[tuple[Media, float]],
) -> None:
    async with session.get(url) as resp:
        body = await resp.text()
    seen = {part.uri for part in parse(body)[1]}
    while not stop.is_set():
        segments = parse(body)[0]
        open_parts = body.rsplit("#EXTINF", 1)[-1].count("#EXT-X-PART:")
        msn = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", body).group(1)) + len(segments)  # type: ignore[union-attr]
        async with session.get(url, params={"_HLS_msn": str(msn), "_HLS_part": str(open_parts)}) as resp:
            body = await resp.text()
        now = time.time()
        for part in parse(body)[1]:
            if part.uri not in seen:
                seen.add(part.uri)
                first.append(now - part.start)
                last.append(now - part.start - part.duration)
                listed.append((part, now))


async def plain_loop(
    session: aiohttp.ClientSession, url: str, stop: asyncio.Event, first: list[float], last: list[float]
) -> None:
    seen: set[str] | None = None
    while not stop.is_set():
        async with session.get(url) as resp:
            body = await resp.text()
        now = time.time()
        segments = parse(body)[0]
        if seen is not None:
            for segment in segments:
                if segment.uri not in seen and not segment.uri.startswith("gap_"):
                    first.append(now - segment.start)
                    last.append(now - segment.start - segment.duration)
        seen = {segment.uri for segment in segments}
        await asyncio.sleep(0.1)


async def speaker_latency(
    session: aiohttp.ClientSession, base: str, debate_id: str, playlist: str, rounds: int
) -> tuple[list[float], list[float]]:
    events: list[float] = []
    dateranges: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(
        f"{base}/api/v1/events",
        params={"channels": f"live:{debate_id}"},
        headers={"Accept": "text/event-stream"},
    ) as stream:
        for i in range(rounds):
            sent = time.time()
            async with session.post(
                f"{base}/api/v1/live/{debate_id}/speaker", json={"speaker": f"Orateur {i}"}, headers=headers
            ) as resp:
                index = (await resp.json())["index"]
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:") and json.loads(line[5:])["data"].get("index") == index:
                    events.append(time.time() - sent)
                    break
            while True:
                async with session.get(playlist) as resp:
                    if f'ID="ch-{index}"' in await resp.text():
                        dateranges.append(time.time() - sent)
                        break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.6)
    return events, dateranges


def hls_js(
    node_modules: Path, work: Path, page_url: str, master: str, seconds: float
) -> list[dict[str, Any]]:
    script = work / "live-latency.mjs"
    script.write_text(NODE_SCRIPT)
    out = subprocess.run(
        ["node", str(script), str(node_modules.resolve()), page_url, master, str(seconds)],
        capture_output=True, text=True, timeout=4 * (seconds + 30) + 60, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def serve(
    args: argparse.Namespace, data_dir: Path, port: int, extra: dict[str, str]
) -> subprocess.Popen[bytes]:
    """``robian-media serve`` (API and worker in one process) with its own data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBIAN_")}
    env.update({
        "ROBIAN_DATA_DIR": str(data_dir), "ROBIAN_ADMIN_TOKEN": TOKEN, "ROBIAN_WORKERS": "1",
        "ROBIAN_INGEST_ALLOW_PRIVATE": "true", "ROBIAN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ROBIAN_LIVE_PART_SECONDS": str(args.part), "ROBIAN_LIVE_SOURCE_POLL_SECONDS": str(args.poll),
        "ROBIAN_LOG_LEVEL": "WARNING", "ROBIAN_WORKER_POLL_SECONDS": "0.5",
        "ROBIAN_CACHE_ENABLED": "false", **extra,
    })  # fmt: skip
    if args.database_url:
        env["ROBIAN_DATABASE_URL"] = args.database_url
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir.parent / f"{data_dir.name}-serve.log").open("wb")
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/robian-media"), "serve", "--port", str(port)], env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


async def start_sitting(session: aiohttp.ClientSession, base: str, source_url: str) -> tuple[str, str, str]:
    """A live sitting of ``source_url`` on the server at ``base``: its debate, master and second rung."""
    await wait_http(session, f"{base}/health")
    async with session.post(
        f"{base}/api/v1/live", json={"source_url": source_url, "title": "Bench"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:  # fmt: skip
        assert resp.status == 202, await resp.text()
        debate_id = (await resp.json())["debate_id"]
    master = f"{base}/hls/{debate_id}/master.m3u8"
    await wait_http(session, f"{base}/api/v1/debates/{debate_id}/stream")
    async with session.get(master) as resp:
        rung = [line for line in (await resp.text()).splitlines() if line.startswith("v")][1]
    return debate_id, master, f"{base}/hls/{debate_id}/{rung}"


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="live-bench-"))
    wav = work / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(wav), TEXT], check=True)
    live_dir = work / "origin" / "live"
    live_dir.mkdir(parents=True)
    (work / "origin" / "player.html").write_text(HLS_PAGE)
    if args.node_modules:
        (work / "origin" / "hls.js").write_bytes((args.node_modules / "hls.js/dist/hls.min.js").read_bytes())
    origin_port, api_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(  # the source's HTTP server
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(work / "origin"),
             str(origin_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        procs.append(subprocess.Popen(  # the live source, at real-time speed
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(wav), "-c:a", "aac",
             "-b:a", "96k", "-ac", "1", "-ar", "48000", "-f", "hls", "-hls_time", str(args.source_segment),
             "-hls_list_size", "6", "-hls_flags", "delete_segments+program_date_time+omit_endlist",
             str(live_dir / "playlist.m3u8")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        procs.append(serve(args, work / "data", api_port, {}))
        s3_port = free_port()
        if args.s3:
            from store_bench import start_moto

            moto_port = free_port()
            procs.append(start_moto(moto_port))
            s3_env = {
                "ROBIAN_MEDIA_STORE": "s3://media-bench/hls", "ROBIAN_S3_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
                "ROBIAN_S3_ACCESS_KEY_ID": "bench", "ROBIAN_S3_SECRET_ACCESS_KEY": "bench-secret",
            }  # fmt: skip
            procs.append(serve(args, work / "s3-data", s3_port, s3_env))
        base = f"http://127.0.0.1:{api_port}"
        source_url = f"http://127.0.0.1:{origin_port}/live/playlist.m3u8"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            await wait_http(session, source_url)
            debate_id, master, playlist = await start_sitting(session, base, source_url)
            s3_sitting = None
            if args.s3:
                s3_sitting = await start_sitting(session, f"http://127.0.0.1:{s3_port}", source_url)
            await asyncio.sleep(4)  # past the start-up
            stop = asyncio.Event()
            source: list[float] = []
            ll_first: list[float] = []
            ll_last: list[float] = []
            plain_first: list[float] = []
            plain_last: list[float] = []
            source_listed: list[tuple[Media, float]] = []
            parts_listed: list[tuple[Media, float]] = []
            tasks = [
                asyncio.create_task(watch_source(session, source_url, stop, source, source_listed)),
                asyncio.create_task(blocking_loop(session, playlist, stop, ll_first, ll_last, parts_listed)),
                asyncio.create_task(plain_loop(session, playlist, stop, plain_first, plain_last)),
            ]
            s3_figures: dict[str, list[float]] = {
                name: [] for name in ("ll_first", "ll_last", "first", "last")
            }
            if s3_sitting is not None:
                s3_playlist = s3_sitting[2]
                tasks += [
                    asyncio.create_task(blocking_loop(
                        session, s3_playlist, stop, s3_figures["ll_first"], s3_figures["ll_last"], []
                    )),
                    asyncio.create_task(
                        plain_loop(session, s3_playlist, stop, s3_figures["first"], s3_figures["last"])
                    ),
                ]  # fmt: skip
            await asyncio.sleep(args.seconds)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            events, dateranges = await speaker_latency(session, base, debate_id, playlist, args.speakers)
            browser: list[dict[str, Any]] = []
            if args.node_modules:
                page = f"http://127.0.0.1:{origin_port}/player.html"
                browser = await asyncio.to_thread(hls_js, args.node_modules, work, page, master, args.seconds)
            for stopped in [base] + ([f"http://127.0.0.1:{s3_port}"] if s3_sitting else []):
                sitting = debate_id if stopped == base else s3_sitting[0]  # type: ignore[index]
                async with session.post(
                    f"{stopped}/api/v1/live/{sitting}/stop", headers={"Authorization": f"Bearer {TOKEN}"}
                ):
                    pass
        part_hold_back, hold_back = 3 * 0.512, 3 * 2.0
        print(f"source: {args.source_segment:g} s segments; parts {args.part:g} s requested (0.512 s as "
              f"cut), 2.048 s segments; {args.seconds:g} s measured")  # fmt: skip
        print(summary("source lists its segment (first sample)", source))
        print(summary("LL-HLS part listed, first sample of the part", ll_first))
        print(summary("LL-HLS part listed, last sample of the part", ll_last))
        print(summary("plain HLS segment listed, first sample", plain_first))
        print(summary("plain HLS segment listed, last sample", plain_last))
        added_first, added_last = pipeline(source_listed, parts_listed)
        print(summary("ours: source lists a segment -> its first sample listed", added_first))
        print(summary("ours: source lists a segment -> its end - 0.1 s listed", added_last))
        if ll_last:
            print(f"{'LL-HLS player estimate (+ PART-HOLD-BACK 1.536 s)':<52} "
                  f"{statistics.mean(ll_last) + part_hold_back:6.3f} s   goal <= 3 s")  # fmt: skip
        if plain_last:
            print(f"{'plain HLS player estimate (+ 3 target durations)':<52} "
                  f"{statistics.mean(plain_last) + hold_back:6.3f} s   goal <= 8 s")  # fmt: skip
        for result in browser:
            mode = "hls.js lowLatencyMode " + ("on" if result["low_latency"] else "off")
            mode += f", maxLiveSyncPlaybackRate {result['catch_up']:g}"
            print(summary(mode + " (now - playingDate)", result["samples"]))
        if args.s3:
            print("the same source at the same time, s3 store (worker uploads, API reads the bucket):")
            print(summary("s3: LL-HLS part listed, first sample of the part", s3_figures["ll_first"]))
            print(summary("s3: LL-HLS part listed, last sample of the part", s3_figures["ll_last"]))
            print(summary("s3: plain HLS segment listed, first sample", s3_figures["first"]))
            print(summary("s3: plain HLS segment listed, last sample", s3_figures["last"]))
            if ll_last and s3_figures["ll_last"]:
                ratio = statistics.mean(s3_figures["ll_last"]) / statistics.mean(ll_last)
                print(f"{'s3 / file, LL-HLS part listed (last sample), mean':<52} {ratio:6.2f}x")
        print(summary("speaker POST -> live.speaker event on SSE", events) + "   goal <= 0.5 s")
        print(summary("speaker POST -> DATERANGE in the playlist", dateranges))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--source-segment", type=float, default=2.0, help="the source's own segment duration")
    parser.add_argument("--part", type=float, default=0.5, help="ROBIAN_LIVE_PART_SECONDS")
    parser.add_argument("--poll", type=float, default=0.25, help="ROBIAN_LIVE_SOURCE_POLL_SECONDS")
    parser.add_argument("--speakers", type=int, default=10)
    parser.add_argument("--node-modules", type=Path, help="a node_modules with playwright-core and hls.js")
    parser.add_argument("--database-url", help="default: an embedded PostgreSQL in a temp dir")
    parser.add_argument("--s3", action="store_true", help="the same source recorded with the s3 store too")
    arguments = parser.parse_args()
    if arguments.s3 and arguments.database_url:
        parser.error("--s3 runs two servers, each with its own embedded PostgreSQL: no --database-url")
    asyncio.run(main(arguments))

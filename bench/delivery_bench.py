"""Delivery benchmark: our nginx configuration vs a bare one-line nginx serving the same files.

    python bench/delivery_bench.py [--duration 10] [--rounds 3] [--connections 64]

wrk (one thread, 64 connections, loopback) fetches a 48 KB segment and a one-hour VOD playlist from
  bare           `server { listen …; root <media>; }`, nginx defaults otherwise (sendfile off)
  bare+sendfile  the same with `sendfile on; tcp_nopush on;`: what our features cost on top
  origin         the rendered configuration (regex locations, marker test, CORS, symlink checks, logs …)
  edge HIT       the rendered edge cache on a hit
each with `worker_processes 1`. The cases run interleaved, round after round, and the script prints
the medians: req/s, p99 latency, the nginx worker's CPU time per request (steadier than req/s on a
busy machine) and the ratios to bare (goal: origin ≥ 90 %, edge HIT ≥ 80 %) and to bare+sendfile.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.settings import Settings
from tests.services import NginxServer, free_port

DEBATE = "6f1c2b9e-4d3a-4f7e-9b21-0c8d5e7a3f10"
SEGMENT = f"{DEBATE}/v1/a64/seg_1.m4s"
PLAYLIST = f"{DEBATE}/v1/a64/index.m3u8"

BARE = """{user}worker_processes 1;
pid "{prefix}/nginx.pid";
error_log "{prefix}/error.log";
events {{ }}
http {{
    {sendfile}
    access_log "{prefix}/access.log";
    client_body_temp_path "{prefix}/client_body_temp";
    proxy_temp_path "{prefix}/proxy_temp";
    fastcgi_temp_path "{prefix}/fastcgi_temp";
    uwsgi_temp_path "{prefix}/uwsgi_temp";
    scgi_temp_path "{prefix}/scgi_temp";
    server {{ listen 127.0.0.1:{port}; root "{media}"; }}
}}
"""


@dataclass
class Case:
    name: str
    url: str
    nginx: NginxServer
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


def build_media(root: Path) -> None:
    rung = root / DEBATE / "v1" / "a64"
    rung.mkdir(parents=True)
    (rung / "seg_1.m4s").write_bytes(os.urandom(48 * 1024))
    entries = "".join(f"#EXTINF:6.000000,\nseg_{i}.m4s\n" for i in range(600))  # one hour of 6 s segments
    (rung / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f'#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="init.mp4"\n{entries}#EXT-X-ENDLIST\n'
    )
    (root / DEBATE / "v1" / ".complete").write_text("")


def start_bare(base: Path, media: Path, user: str | None, sendfile: bool) -> tuple[NginxServer, int]:
    prefix = base / ("bare-sendfile" if sendfile else "bare")
    prefix.mkdir()
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        BARE.format(
            user=f"user {user};\n" if user else "",
            sendfile="sendfile on; tcp_nopush on;" if sendfile else "",
            prefix=prefix,
            port=port,
            media=media,
        )
    )
    return NginxServer(config, prefix, [port]).start(), port


def start_ours(base: Path, media: Path, user: str | None) -> tuple[NginxServer, int, int]:
    prefix = base / "ours"
    prefix.mkdir()
    listen, edge = Address("127.0.0.1", free_port()), Address("127.0.0.1", free_port())
    settings = Settings(
        _env_file=None,
        data_dir=base / "data",
        media_root_dir=media,
        nginx_worker_processes="1",
        nginx_user=user,
    )
    layout = NginxLayout(
        listen=listen, upstreams=[Address("127.0.0.1", free_port())], edge_listen=edge, prefix=prefix
    )
    config = prefix / "nginx.conf"
    config.write_text(render_nginx_conf(settings, layout))
    return NginxServer(config, prefix, [listen.port, edge.port]).start(), listen.port, edge.port


def worker_cpu_seconds(nginx: NginxServer) -> float:
    """User + system CPU of the nginx workers (children of the master)."""
    master = nginx.pid
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(case: Case, duration: int, connections: int) -> None:
    before = worker_cpu_seconds(case.nginx)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", case.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = worker_cpu_seconds(case.nginx) - before
    if "Non-2xx" in out:
        raise SystemExit(f"{case.name}: errors during the run\n{out}")
    requests = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    if requests is None or rps is None or p99 is None:
        raise SystemExit(f"{case.name}: unexpected wrk output\n{out}")
    case.rps.append(float(rps[1]))
    case.p99_ms.append(float(p99[1]) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[p99[2]])
    case.cpu_us.append(1e6 * cpu / int(requests[1]))
    # the access logs grow by ~250 bytes a request: keep the disk out of it
    for log in case.nginx.prefix.glob("*access.log"):
        os.truncate(log, 0)


def expect(url: str, cache_status: str | None) -> None:
    with urllib.request.urlopen(url) as resp:
        resp.read()
        assert resp.status == 200, url
        if cache_status is not None:
            assert resp.headers["X-Cache-Status"] == cache_status, (url, resp.headers["X-Cache-Status"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    user = "root" if os.geteuid() == 0 else None  # workers must read the private temp dir
    base = Path(tempfile.mkdtemp(prefix="robian-delivery-bench-"))
    servers: list[NginxServer] = []
    try:
        media = base / "media"
        build_media(media)
        bare, bare_port = start_bare(base, media, user, sendfile=False)
        servers.append(bare)
        bare_sendfile, bare_sendfile_port = start_bare(base, media, user, sendfile=True)
        servers.append(bare_sendfile)
        ours, origin_port, edge_port = start_ours(base, media, user)
        servers.append(ours)
        cases = []
        for label, relative in (("segment 48 KB", SEGMENT), ("playlist 1 h", PLAYLIST)):
            expect(f"http://127.0.0.1:{edge_port}/hls/{relative}", "MISS")
            expect(f"http://127.0.0.1:{edge_port}/hls/{relative}", "HIT")
            cases += [
                Case(f"{label} bare", f"http://127.0.0.1:{bare_port}/{relative}", bare),
                Case(
                    f"{label} bare+sendfile",
                    f"http://127.0.0.1:{bare_sendfile_port}/{relative}",
                    bare_sendfile,
                ),
                Case(f"{label} origin", f"http://127.0.0.1:{origin_port}/hls/{relative}", ours),
                Case(f"{label} edge HIT", f"http://127.0.0.1:{edge_port}/hls/{relative}", ours),
            ]
        for round_number in range(args.rounds):
            for case in cases:
                run_wrk(case, args.duration, args.connections)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
            time.sleep(1)
        report(cases, args)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


def _ratio(ours: list[float], base: list[float]) -> float:
    return statistics.median(o / b for o, b in zip(ours, base, strict=True))


def report(cases: list[Case], args: argparse.Namespace) -> None:
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s --latency, worker_processes 1, "
        f"median of {args.rounds} interleaved rounds\n"
    )
    header = (
        f"{'case':<28}{'req/s':>9}{'p99 ms':>9}{'CPU µs/req':>12}"
        f"{'vs bare':>9}{'vs bare+sf':>12}{'CPU vs bare':>13}"
    )
    print(header)
    print("-" * len(header))
    for index, case in enumerate(cases):
        bare, bare_sendfile = cases[index - index % 4], cases[index - index % 4 + 1]
        print(
            f"{case.name:<28}{statistics.median(case.rps):>9.0f}{statistics.median(case.p99_ms):>9.2f}"
            f"{statistics.median(case.cpu_us):>12.1f}{_ratio(case.rps, bare.rps):>9.0%}"
            f"{_ratio(case.rps, bare_sendfile.rps):>12.0%}{_ratio(bare.cpu_us, case.cpu_us):>13.0%}"
        )
    print(
        "\nvs: req/s ours / baseline, per round then median. CPU vs bare: bare's worker CPU per request"
        " / ours (> 100 % = cheaper)."
    )


if __name__ == "__main__":
    sys.exit(main())

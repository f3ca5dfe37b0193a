"""Origin delivery with the s3 store: cache hits of the origin proxying the bucket, beside the file
store's origin serving the same files from disk, in one run.

    python bench/store_delivery_bench.py [--duration 10] [--rounds 3] [--connections 64]

Same method as delivery_bench.py (wrk -t1, loopback, worker_processes 1, interleaved rounds, medians):
  file origin   the rendered origin, ROBIAN_MEDIA_STORE=file: the media root on disk
  s3 origin HIT the rendered origin, ROBIAN_MEDIA_STORE=s3://…: the objects in moto's S3 server,
                each fetched once, then answered from nginx's store cache
for a 48 KB segment and a one-hour playlist. Goal: s3 origin HIT within 10 % of the file origin.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
from delivery_bench import PLAYLIST, SEGMENT, Case, build_media, expect, run_wrk
from moto.server import ThreadedMotoServer

from robian_media.media.nginx_conf import Address, NginxLayout, render_nginx_conf
from robian_media.media.s3_store import S3MediaStore
from robian_media.settings import Settings
from tests.services import NginxServer, free_port

BUCKET = "media-bench"


def start_origin(base: Path, name: str, settings: Settings) -> tuple[NginxServer, int]:
    prefix = base / name
    prefix.mkdir()
    listen = Address("127.0.0.1", free_port())
    layout = NginxLayout(listen=listen, upstreams=[Address("127.0.0.1", free_port())], prefix=prefix)
    config = prefix / "nginx.conf"
    config.write_text(render_nginx_conf(settings, layout))
    return NginxServer(config, prefix, [listen.port]).start(), listen.port


def start_store(media: Path, settings: Settings, port: int) -> ThreadedMotoServer:
    """moto's S3 server (a thread: after the first MISS nginx never asks it again) with the media
    uploaded through the s3 store and the prefix public-read, as a deployment makes it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    s3.create_bucket(Bucket=BUCKET)
    store = S3MediaStore.from_settings(settings, BUCKET, "hls")

    async def upload() -> None:
        for relative in (SEGMENT, PLAYLIST):
            await store.put(relative, media / relative)

    asyncio.run(upload())
    statement = {
        "Sid": "PublicReadMedia",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/hls/*",
    }
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    return server


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    user = "root" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="robian-store-delivery-"))
    servers: list[NginxServer] = []
    store_port = free_port()
    common = {"_env_file": None, "data_dir": base / "data", "nginx_worker_processes": "1", "nginx_user": user}
    file_settings = Settings(media_root_dir=base / "media", **common)  # type: ignore[arg-type]
    s3_settings = Settings(
        media_store=f"s3://{BUCKET}/hls",
        s3_endpoint_url=f"http://127.0.0.1:{store_port}",
        s3_access_key_id="AKIABENCHKEY0000",
        s3_secret_access_key="bench/secret/key",
        **common,  # type: ignore[arg-type]
    )
    store: ThreadedMotoServer | None = None
    try:
        build_media(base / "media")
        store = start_store(base / "media", s3_settings, store_port)
        file_origin, file_port = start_origin(base, "file", file_settings)
        servers.append(file_origin)
        s3_origin, s3_port = start_origin(base, "s3", s3_settings)
        servers.append(s3_origin)
        cases = []
        for label, relative in (("segment 48 KB", SEGMENT), ("playlist 1 h", PLAYLIST)):
            expect(f"http://127.0.0.1:{s3_port}/hls/{relative}", "MISS")
            expect(f"http://127.0.0.1:{s3_port}/hls/{relative}", "HIT")
            cases += [
                Case(f"{label} file origin", f"http://127.0.0.1:{file_port}/hls/{relative}", file_origin),
                Case(f"{label} s3 origin HIT", f"http://127.0.0.1:{s3_port}/hls/{relative}", s3_origin),
            ]
        for round_number in range(args.rounds):
            for case in cases:
                run_wrk(case, args.duration, args.connections)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
            time.sleep(1)
    finally:
        for server in servers:
            server.stop()
        if store is not None:
            store.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s, worker_processes 1, "
        f"median of {args.rounds} rounds\n"
    )
    print(f"{'case':<30}{'req/s':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'vs file':>9}{'CPU vs file':>13}")
    for index, case in enumerate(cases):
        file_case = cases[index - index % 2]
        ratio = statistics.median(o / f for o, f in zip(case.rps, file_case.rps, strict=True))
        cpu = statistics.median(f / o for o, f in zip(case.cpu_us, file_case.cpu_us, strict=True))
        print(
            f"{case.name:<30}{statistics.median(case.rps):>9.0f}{statistics.median(case.p99_ms):>9.2f}"
            f"{statistics.median(case.cpu_us):>12.1f}{ratio:>9.0%}{cpu:>13.0%}"
        )
    print(
        "\nvs file: req/s of the case / the file origin's, per round then median (goal: s3 HIT ≥ 90 %);"
        " CPU vs file: the file origin's worker CPU per request / the case's (steadier on a busy machine)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

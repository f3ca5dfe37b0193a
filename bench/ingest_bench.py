"""Ingest benchmark (not a test): a URL to a playable, then published, debate — beside the packager alone.

    python bench/ingest_bench.py [--minutes 10] [--ladder speech] [--s3]

Synthesises a sitting (espeak-ng speech looped to --minutes), serves it from a local HTTP server,
and in one run measures:
  - ingest through the job queue (submit → worker: yt-dlp fetch, probe, package, publish):
    time to first playable (the debate master answers and FFmpeg decodes from it) and to published;
  - the packager alone on the same file (no queue, no fetch, no database);
and prints the ratio, so the queue/fetch/publish overhead is read beside the encoding it wraps.
With --s3, the same ingest again with the s3 store (moto's server on loopback, in a process of its
own): first playable is then when FFmpeg decodes the top master from the bucket, while the worker
uploads the version as it grows (progressive playback).
Uses ROBIAN_DATABASE_URL when set, else an embedded PostgreSQL in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
from aiohttp import web
from pydantic import SecretStr
from store_bench import start_moto

from packager.vod import package
from robian_media.ingest.models import IngestRequest
from robian_media.ingest.submit import check_submission, submit_ingest
from robian_media.ingest.task import INGEST
from robian_media.jobs import store
from robian_media.jobs.standalone import job_process
from robian_media.jobs.worker import run_worker
from robian_media.ops.background import cancel_and_wait
from robian_media.settings import Settings
from tests.services import free_port

TEXT = (
    "Madame la présidente, mes chers collègues, ce texte répond à une attente forte de nos territoires. "
    "L'article premier crée un guichet unique dans chaque département, et je donne la parole au rapporteur."
)


def synthesise(work: Path, minutes: float) -> Path:
    wav = work / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(wav), TEXT], check=True)
    source = work / "sitting.m4a"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-stream_loop", "-1", "-i", str(wav),
         "-t", str(minutes * 60), "-ac", "1", "-ar", "48000", "-c:a", "aac", "-b:a", "96k", str(source)],
        check=True,
    )  # fmt: skip
    return source


async def serve_file(path: Path) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/sitting.m4a", lambda _: web.FileResponse(path))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/sitting.m4a"


async def decodes(master: Path | str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-nostdin", "-i", str(master), "-t", "2", "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await proc.wait() == 0


def public_read(endpoint: str, bucket: str) -> None:
    """The media prefix public-read, as a deployment behind a CDN has it (nginx/README.md): FFmpeg
    reads the bucket as a player would."""
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
    )  # fmt: skip
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    policy = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


async def ingest(settings: Settings, url: str) -> tuple[float, float, dict[str, float]]:
    """(seconds to first playable, to published, to the start of each stage) from submitting ``url``."""
    async with job_process(settings, [INGEST]) as (queue, resources):
        request = IngestRequest(source_url=url)
        started = time.monotonic()
        submitted = await submit_ingest(queue, request, await check_submission(request, settings))
        worker = asyncio.create_task(run_worker(queue, resources, concurrency=1, queues=[INGEST.queue]))
        master: Path | str = settings.media_root / str(submitted.debate_id) / "master.m3u8"
        if settings.s3_location is not None:
            bucket, prefix = settings.s3_location
            master = f"{settings.s3_endpoint_url}/{bucket}/{prefix}/{submitted.debate_id}/master.m3u8"
        first_playable = None
        stages: dict[str, float] = {}
        try:
            while True:
                if first_playable is None and await decodes(master):
                    first_playable = time.monotonic() - started
                job = await store.get_job(resources.pool, submitted.job_id)
                assert job is not None
                stages.setdefault(job.stage or job.status, time.monotonic() - started)
                if job.status in ("succeeded", "failed", "cancelled"):
                    if job.status != "succeeded":
                        raise SystemExit(f"ingest {job.status}: {job.error}")
                    published = time.monotonic() - started
                    return first_playable or published, published, stages
                await asyncio.sleep(0.2)
        finally:
            await cancel_and_wait(worker)


async def packager_alone(source: Path, out: Path, ladder: str) -> tuple[float, float]:
    started = time.monotonic()
    result = await package(source, out, ladder=ladder)
    total = time.monotonic() - started
    return result.timings.get("first_playable", total), total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--ladder", default="speech")
    parser.add_argument("--s3", action="store_true", help="the same ingest with the s3 store too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        source = synthesise(work, args.minutes)
        runner, url = await serve_file(source)
        settings = Settings(
            _env_file=None,
            database_url=os.environ.get("ROBIAN_DATABASE_URL"),
            data_dir=work / "data",
            ingest_allow_private=True,
            ladder=args.ladder,
            log_level="WARNING",
            log_json=False,
        )
        moto = None
        try:
            playable, published, stages = await ingest(settings, url)
            if args.s3:
                port = free_port()
                moto = start_moto(port)
                public_read(f"http://127.0.0.1:{port}", "media-bench")
                s3 = settings.model_copy(
                    update={
                        "data_dir": work / "s3-data",
                        "media_store": "s3://media-bench/hls",
                        "s3_endpoint_url": f"http://127.0.0.1:{port}",
                        "s3_access_key_id": SecretStr("bench"),
                        "s3_secret_access_key": SecretStr("bench-secret"),
                    }
                )
                # another URL: the same one would be the debate already ingested
                s3_playable, s3_published, s3_stages = await ingest(s3, f"{url}?store=s3")
        finally:
            await runner.cleanup()
            if moto is not None:
                moto.terminate()
                moto.wait(timeout=30)
        alone_playable, alone_total = await packager_alone(source, work / "alone", args.ladder)
    print(f"source: {args.minutes:g} min of speech, ladder {args.ladder}, {os.cpu_count()} cores")
    print(f"{'':32} {'first playable':>15} {'published':>10} {'playable after packaging began':>31}")
    begun = playable - stages.get("packaging", 0.0)
    print(f"{'ingest (queue+fetch+publish)':32} {playable:14.1f}s {published:9.1f}s {begun:30.1f}s")
    if args.s3:
        s3_begun = s3_playable - s3_stages.get("packaging", 0.0)
        print(f"{'ingest with the s3 store':32} {s3_playable:14.1f}s {s3_published:9.1f}s {s3_begun:30.1f}s")
    print(f"{'packager alone':32} {alone_playable:14.1f}s {alone_total:9.1f}s")
    ratios = (playable / alone_playable, published / alone_total)
    print(f"{'ratio ingest / packager':32} {ratios[0]:14.2f}x {ratios[1]:9.2f}x")
    if args.s3:
        ratios = (s3_playable / playable, s3_published / published)
        print(f"{'ratio s3 / file store':32} {ratios[0]:14.2f}x {ratios[1]:9.2f}x")
        print(f"the s3 store adds {s3_begun - begun:+.1f} s to the first playable (counted from packaging)")
    print(f"ingest overhead beyond packaging: {published - alone_total:+.1f} s")
    marks = [*stages.items(), ("published", published)]
    spans = ", ".join(f"{a} {t2 - t1:.1f} s" for (a, t1), (_, t2) in itertools.pairwise(marks))
    print(f"ingest stages (as polled): {spans}")


if __name__ == "__main__":
    asyncio.run(main())

"""Ingest benchmark (not a test): a URL to a playable, then published, debate — beside the packager alone.

    python bench/ingest_bench.py [--minutes 10] [--ladder speech]

Synthesises a sitting (espeak-ng speech looped to --minutes), serves it from a local HTTP server,
and in one run measures:
  - ingest through the job queue (submit → worker: yt-dlp fetch, probe, package, publish):
    time to first playable (the debate master answers and FFmpeg decodes from it) and to published;
  - the packager alone on the same file (no queue, no fetch, no database);
and prints the ratio, so the queue/fetch/publish overhead is read beside the encoding it wraps.
Uses ROBIAN_DATABASE_URL when set, else an embedded PostgreSQL in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from packager.vod import package
from robian_media.ingest.models import IngestRequest
from robian_media.ingest.submit import check_submission, submit_ingest
from robian_media.ingest.task import INGEST
from robian_media.jobs import store
from robian_media.jobs.standalone import job_process
from robian_media.jobs.worker import run_worker
from robian_media.ops.background import cancel_and_wait
from robian_media.settings import Settings

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


async def decodes(master: Path) -> bool:
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-nostdin", "-i", str(master), "-t", "2", "-f", "null", "-",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await proc.wait() == 0


async def ingest(settings: Settings, url: str) -> tuple[float, float, dict[str, float]]:
    """(seconds to first playable, to published, to the start of each stage) from submitting ``url``."""
    async with job_process(settings, [INGEST]) as (queue, resources):
        request = IngestRequest(source_url=url)
        started = time.monotonic()
        submitted = await submit_ingest(queue, request, await check_submission(request, settings))
        worker = asyncio.create_task(run_worker(queue, resources, concurrency=1, queues=[INGEST.queue]))
        master = settings.media_root / str(submitted.debate_id) / "master.m3u8"
        first_playable = None
        stages: dict[str, float] = {}
        try:
            while True:
                if first_playable is None and master.exists() and await decodes(master):
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
        try:
            playable, published, stages = await ingest(settings, url)
        finally:
            await runner.cleanup()
        alone_playable, alone_total = await packager_alone(source, work / "alone", args.ladder)
    print(f"source: {args.minutes:g} min of speech, ladder {args.ladder}, {os.cpu_count()} cores")
    print(f"{'':32} {'first playable':>15} {'published':>10}")
    print(f"{'ingest (queue+fetch+publish)':32} {playable:14.1f}s {published:9.1f}s")
    print(f"{'packager alone':32} {alone_playable:14.1f}s {alone_total:9.1f}s")
    ratios = (playable / alone_playable, published / alone_total)
    print(f"{'ratio ingest / packager':32} {ratios[0]:14.2f}x {ratios[1]:9.2f}x")
    print(f"ingest overhead beyond packaging: {published - alone_total:+.1f} s")
    marks = [*stages.items(), ("published", published)]
    spans = ", ".join(f"{a} {t2 - t1:.1f} s" for (a, t1), (_, t2) in itertools.pairwise(marks))
    print(f"ingest stages (as polled): {spans}")


if __name__ == "__main__":
    asyncio.run(main())

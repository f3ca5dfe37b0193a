"""``robian-media demo``: the server on the current settings plus a synthesised sitting, ingested
through the normal pipeline (local-file source → job queue → packager → publish), so a newcomer
has something to play without providing a source."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from packager.synth import STARTS_AT, TEXT, make_sitting

from ..jobs.follow import ProgressBar, follow_job
from ..media.urls import MediaUrls
from ..ops.background import cancel_and_wait, start_task
from ..web import keys
from .models import IngestRequest
from .submit import check_submission, submit_ingest

DEMO_TITLE = "Séance de démonstration — projet de loi de finances"
DEMO_BODY = "Séance publique"
DEMO_TASK: web.AppKey[asyncio.Task[None]] = web.AppKey("demo_task")


async def ingest_demo(app: web.Application) -> None:
    settings = app[keys.SETTINGS]
    # inside the first local ingest directory: local files are only ingested from there
    work = settings.local_source_dirs[0] / "demo"
    sitting = await asyncio.to_thread(make_sitting, work, app[keys.FFMPEG], 2, 0.0)
    request = IngestRequest(
        source_url=str(sitting.path),
        title=DEMO_TITLE,
        body=DEMO_BODY,
        starts_at=STARTS_AT,
        chapters=[chapter.model_dump() for chapter in sitting.chapters],
        # the words each voice says, so that the demo shows captions and its transcript
        transcript=[
            {"start": c.start, "speaker": c.speaker.model_dump(), "text": TEXT} for c in sitting.chapters
        ],
    )
    location = await check_submission(request, settings)
    submitted = await submit_ingest(app[keys.JOB_QUEUE], request, location)
    base = settings.public_base_url
    master = MediaUrls(base).master(submitted.debate_id)
    page = f"{base}/?debate={submitted.debate_id}"
    print(
        f"demo sitting: debate {submitted.debate_id}\n"
        f"  listen:   {page}&job={submitted.job_id}   (the listener page, in a browser)\n"
        f"  play:     {master}   (hls.js, Safari/iOS, VLC, FFmpeg ≥ 6)\n"
        f"  metadata: {base}/api/v1/debates/{submitted.debate_id}\n"
        f"  job:      {base}/api/v1/jobs/{submitted.job_id}\n"
        f"  API docs: {base}/api/docs\n"
        f"  data:     {settings.data_dir}   (ROBIAN_DATA_DIR: the database, admin-token, inbox)",
        flush=True,
    )
    job = await follow_job(app[keys.DB_POOL], submitted.job_id, ProgressBar(sys.stderr))
    if job.status == "succeeded":
        print(f"demo sitting published: {master}", flush=True)
        print(f"Listen in a browser: {page}\n(every debate: {base}/ — Ctrl-C stops the server)", flush=True)
    else:
        print(f"demo sitting {job.status}: {job.error or ''}", file=sys.stderr, flush=True)


async def demo_ctx(app: web.Application) -> AsyncIterator[None]:
    """Runs after every resource is up (it is the last cleanup context): needs the queue and a worker."""
    task = start_task(ingest_demo(app), "demo ingest")
    app[DEMO_TASK] = task
    yield
    await cancel_and_wait(task)

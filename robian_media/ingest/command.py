"""``robian-media ingest URL [--chapters FILE] [--wait]``: submit, then follow with a progress bar.

With ``--wait`` and no live worker (embedded defaults, nothing else running) the command runs a
worker itself, so it works alone; it ends printing the playable master URL.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from uuid import UUID

import procrastinate
from pydantic import ValidationError

from ..jobs import store
from ..jobs.follow import ProgressBar, follow_job
from ..jobs.models import Job
from ..jobs.resources import WorkerResources
from ..jobs.standalone import job_process
from ..jobs.worker import run_worker
from ..ops.background import cancel_and_wait
from ..settings import Settings
from .models import IngestRequest
from .submit import SubmissionRefused, check_submission, submit_ingest
from .task import INGEST


def _source_argument(source: str) -> str:
    """A path given on the command line is made absolute (local sources must be)."""
    if "://" not in source and Path(source).exists():
        return str(Path(source).resolve())
    return source


def _request(source: str, chapters_file: Path | None) -> IngestRequest:
    values: dict[str, object] = {"source_url": _source_argument(source)}
    if chapters_file is not None:
        try:
            values["chapters"] = json.loads(chapters_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"robian-media: cannot read chapters from {chapters_file}: {exc}") from None
    try:
        return IngestRequest.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise SystemExit(f"robian-media: invalid ingest request: {problems}") from None


async def follow_here(
    settings: Settings, queue: procrastinate.App, resources: WorkerResources, job_id: UUID, queues: list[str]
) -> Job:
    """Follow a job with a progress bar until it ends; with no live worker, run one here meanwhile."""
    worker = None
    if await store.live_workers(resources.pool, settings.stalled_worker_seconds) == 0:
        print("no worker is running: running one here until the job ends", file=sys.stderr, flush=True)
        worker = asyncio.create_task(
            run_worker(
                queue,
                resources,
                concurrency=settings.worker_concurrency,
                name="ingest-command",
                queues=queues,
            )
        )
    try:
        return await follow_job(resources.pool, job_id, ProgressBar(sys.stderr))
    finally:
        if worker is not None:
            await cancel_and_wait(worker)


async def ingest_from_command_line(
    settings: Settings, source: str, chapters_file: Path | None, *, wait: bool
) -> int:
    request = _request(source, chapters_file)
    # ingest jobs only: a live sitting must not end with this command
    async with job_process(settings, [INGEST]) as (queue, resources):
        try:
            location = await check_submission(request, settings)
        except SubmissionRefused as exc:
            print(f"robian-media: refused ({exc.field}): {exc.message}", file=sys.stderr)
            return 2
        submitted = await submit_ingest(queue, request, location)
        master_url = resources.master_url(str(submitted.debate_id))
        again = "" if submitted.created else " (already submitted)"
        print(f"job {submitted.job_id}, debate {submitted.debate_id}{again}", flush=True)
        if not wait:
            print(master_url)
            return 0
        job = await follow_here(settings, queue, resources, submitted.job_id, [INGEST.queue])
    if job.status != "succeeded":
        print(f"robian-media: job {job.status}: {job.error or ''}", file=sys.stderr)
        return 1
    print(master_url)
    return 0

"""``robian-media attach-cr DEBATE_ID URL|FILE [--wait]``: a compte rendu attached to a published debate,
as ``POST /api/v1/debates/{id}/compte-rendu`` does (a URL is fetched by the job under the fetch policy;
a file is read here and sent as its chapters and words)."""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import UUID

from pydantic import ValidationError

from ..jobs.errors import IngestError
from ..jobs.standalone import job_process
from ..settings import Settings
from ..web.errors import Problem
from .attach import check_compte_rendu, submit_compte_rendu
from .attach_models import CompteRenduRequest
from .command import follow_here
from .sources.an_compte_rendu import parse_compte_rendu
from .task import ATTACH_COMPTE_RENDU


def _request(source: str) -> CompteRenduRequest:
    if "://" in source:
        return CompteRenduRequest(compte_rendu_url=source)
    try:
        cr = parse_compte_rendu(Path(source).read_bytes())
    except OSError as exc:
        raise SystemExit(f"robian-media: cannot read {source}: {exc.strerror}") from None
    except IngestError as exc:
        raise SystemExit(f"robian-media: {source}: {exc.message}") from None
    if not cr.transcript:
        raise SystemExit(f"robian-media: {source}: no paragraph with a time (<texte stime>)")
    try:
        return CompteRenduRequest(
            transcript=cr.transcript, chapters=cr.chapters or None, from_compte_rendu=True
        )
    except ValidationError as exc:
        raise SystemExit(f"robian-media: {source}: {exc.errors(include_url=False)[0]['msg']}") from None


async def attach_from_command_line(settings: Settings, debate: str, source: str, *, wait: bool) -> int:
    try:
        debate_id = UUID(debate)
    except ValueError:
        print(f"robian-media: not a debate id: {debate!r}", file=sys.stderr)
        return 2
    request = _request(source)
    async with job_process(settings, [ATTACH_COMPTE_RENDU]) as (queue, resources):
        try:
            await check_compte_rendu(request, settings)
            submitted = await submit_compte_rendu(queue, debate_id, request)
        except Problem as exc:
            print(f"robian-media: refused: {exc.detail}", file=sys.stderr)
            return 2
        if submitted is None:
            print(f"robian-media: no debate {debate_id}", file=sys.stderr)
            return 2
        print(f"job {submitted.job_id}, debate {debate_id}", flush=True)
        master_url = resources.master_url(str(debate_id))
        if not wait:
            print(master_url)
            return 0
        job = await follow_here(settings, queue, resources, submitted.job_id, [ATTACH_COMPTE_RENDU.queue])
    if job.status != "succeeded":
        print(f"robian-media: job {job.status}: {job.error or ''}", file=sys.stderr)
        return 1
    print(master_url)
    return 0

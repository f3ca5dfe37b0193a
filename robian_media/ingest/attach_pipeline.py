"""One attempt of a ``compte_rendu`` job: fetch the compte rendu (same fetch policy as ingest), then
publish the debate's next version re-cut from the current one at the new chapters, with the words —
no encode (packager/recut.py). Jobs of one debate run one at a time, so a compte rendu sent while the
sitting is still packaging waits for it; a bad one fails the job and leaves the published version."""

from __future__ import annotations

from pathlib import Path

from packager.playlists import Variant
from packager.recut import RecutError, recut
from packager.vod import PackageResult

from ..jobs.errors import PermanentError
from ..jobs.progress import ProgressReporter
from ..jobs.publish import DebateUpdate
from ..jobs.resources import WorkerResources
from ..jobs.store import JobRun
from ..ops.background import complete_despite_cancel
from .attach_models import CompteRenduRequest
from .packaging import packager_errors, publish_package
from .pipeline import Findings, fetch_compte_rendu, fitting
from .sources.fetch_policy import FetchPolicy
from .sources.http_fetch import SourceClient
from .speakers import named, resolve_speakers

GET_DEBATE = "SELECT title, duration FROM debates WHERE id = $1"


class NothingToRecut(PermanentError):
    """The debate has no published version (yet) to attach the words to."""


def _not_progressive(version: int, variants: list[Variant]) -> None:
    """A re-cut version is played once published: it is made in seconds, from one already playing."""


async def run_attach(
    run: JobRun, res: WorkerResources, progress: ProgressReporter, work_dir: Path
) -> PackageResult:
    settings = res.settings
    request = CompteRenduRequest.model_validate(run.params)
    debate = await res.pool.fetchrow(GET_DEBATE, run.debate_id)
    if debate is None or debate["duration"] is None:
        raise NothingToRecut("The debate has no published version to attach a compte rendu to.")
    progress.update("fetching", 0.0)
    findings = Findings()
    client = SourceClient(FetchPolicy.from_settings(settings), res.breakers)
    try:
        if request.compte_rendu_url:
            await fetch_compte_rendu(client, request.compte_rendu_url, findings)
        cr = findings.compte_rendu
        duration = float(debate["duration"])
        # a compte rendu's times past the media's end are dropped; times a caller gave must fit
        given = not (cr or request.from_compte_rendu)
        chapters = fitting(request.chapters or (cr.chapters if cr else []), duration, given=given)
        words = fitting(request.transcript or (cr.transcript if cr else []), duration, given=given)
        progress.update("probing", 0.0)
        chapters, speakers = await resolve_speakers(
            chapters, pool=res.pool, client=client, settings=settings, others=[p.speaker for p in words]
        )
        words = named(words, speakers)
    finally:
        await client.close()
    progress.update("packaging", 0.0)
    # the media root (file store), or this attempt's scratch directory holding the current version
    # fetched from the bucket (s3: removed with work_dir)
    debate_dir = res.store.debate_dir(run.debate_id, work_dir / "publish")
    with packager_errors():
        await res.store.fetch_current(run.debate_id, debate_dir)
        upload = await res.store.start_version(run.debate_id, debate_dir, _not_progressive)
    try:
        with packager_errors():
            try:
                result = await recut(
                    debate_dir,
                    ladder=settings.ladder,
                    chapters=chapters,
                    transcript=words,
                    ffmpeg=res.ffmpeg,
                    title=debate["title"],
                )
            except RecutError as exc:
                raise NothingToRecut(f"The compte rendu cannot be attached: {exc}") from exc
        await upload.stop()
    except BaseException:
        await complete_despite_cancel(upload.discard())
        raise
    progress.update("publishing", 0.0)
    await publish_package(
        res,
        run,
        upload,
        result,
        speakers=speakers,
        debate=DebateUpdate(),
        words_source="compte_rendu" if cr or request.from_compte_rendu else "request",
    )
    progress.update("publishing", 1.0)
    return result

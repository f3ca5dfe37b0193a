"""``/api/v1/debates/{debate_id}/clip.m4a?start=&end=`` and ``…/chapters/{index}/clip.m4a``: any range,
or one intervention, as its own ``.m4a`` (DESIGN §9), made once and kept (``media.clips``).

A clip URL with ``version`` names bytes that never change (immutable caching; the feeds link those);
without it, it follows the debate's current version (a short max-age). Behind nginx the file is sent by
nginx (``X-Accel-Redirect`` to its internal ``/_media/`` location, as downloads are); without it, from
the media root or the s3 store's bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web
from pydantic import Field, ValidationInfo, field_validator

from packager.chapters import Chapter as PackagerChapter
from packager.chapters import Speaker
from packager.clip import ClipError

from ..catalog import debate_queries as catalog_db
from ..catalog.debates import not_packaged
from ..catalog.download import content_disposition, download_filename, send_media
from ..catalog.models import Chapter
from ..media.clips import MAX_CLIP_SECONDS, ClipSpec, day, intervention_spec, to_ms, top_rung_dir
from ..media.serving import IMMUTABLE
from ..media.store import MediaStoreError
from ..web import keys
from ..web.errors import NotFound, ServiceUnavailable, ValidationFailed
from ..web.openapi import operation
from ..web.path_params import uuid_param
from ..web.query_params import QueryModel
from . import queries as db

# the top rung may end a frame or so before the duration recorded for the sitting
END_TOLERANCE_S = 0.05
FOLLOWING_CACHE_CONTROL = "public, max-age=300"


class VersionQuery(QueryModel):
    version: int | None = Field(
        None,
        ge=1,
        description="the version the clip is cut from (immutable answer); default: the current one",
    )


class ClipQuery(VersionQuery):
    start: float = Field(ge=0, allow_inf_nan=False, description="seconds from the start of the sitting")
    end: float = Field(gt=0, allow_inf_nan=False, description="seconds; end − start ≤ 3600")

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: float, info: ValidationInfo) -> float:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        if start is not None and end - start > MAX_CLIP_SECONDS:
            raise ValueError(f"a clip lasts at most {MAX_CLIP_SECONDS:.0f} s (one hour)")
        return end


def invalid(parameter: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{parameter}: {message}",
        errors=[{"location": parameter, "message": message, "type": "value_error"}],
    )


@dataclass(frozen=True)
class Published:
    debate_id: UUID
    source: db.ClipSource
    version: int
    duration: float
    rung: str
    chapters: list[Chapter]


async def load_published(request: web.Request, debate_id: UUID) -> Published:
    """The debate's published version, its top rung and chapters; 404 when there is none."""
    async with request.app[keys.READ_POOL].acquire() as conn:
        source = await db.get_clip_source(conn, debate_id)
        if source is None:
            raise NotFound("No debate with this id.")
        if source.current_version is None:
            raise not_packaged(source.status, await catalog_db.latest_job(conn, debate_id))
        chapters = await catalog_db.list_chapters(conn, debate_id)
    rung = top_rung_dir(source.variants)
    if not source.published or rung is None or source.current_version is None:
        raise NotFound("This debate's clips can be made once packaging finishes; stream it meanwhile.")
    return Published(debate_id, source, source.current_version, source.duration or 0.0, rung, chapters)


def packager_chapters(chapters: list[Chapter]) -> list[PackagerChapter]:
    return [
        PackagerChapter(
            index=c.index,
            start=c.start,
            end=c.end,
            speaker=Speaker(id=c.speaker.id, name=c.speaker.name, group=c.speaker.group)
            if c.speaker
            else Speaker(name="—"),
            title=c.title,
        )
        for c in chapters
    ]


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


async def serve_clip(
    request: web.Request,
    target: Published,
    spec: ClipSpec,
    *,
    asked_version: int | None,
    parameter: str,
) -> web.StreamResponse:
    """``parameter`` is the one to name when the range holds no whole frame."""
    if asked_version is not None and asked_version != target.version:
        # that version was replaced: the same range of the current one (the audio is the same)
        query = {**request.query, "version": str(target.version)}
        raise web.HTTPFound(f"{request.path}?{urlencode(query)}")
    try:
        await request.app[keys.CLIP_STORE].ensure(spec)
    except ClipError as exc:
        raise invalid(parameter, f"{exc}: the range must hold at least one AAC frame") from None
    except FileNotFoundError:
        raise NotFound("The media of this debate's version is missing on this server.") from None
    except MediaStoreError:
        raise ServiceUnavailable("The media store does not answer; try again shortly.") from None
    filename = download_filename(spec.title or target.source.title, target.source.starts_at)
    headers = {
        "Content-Type": "audio/mp4",
        "Content-Disposition": content_disposition(filename),
        "Cache-Control": IMMUTABLE if asked_version is not None else FOLLOWING_CACHE_CONTROL,
    }
    return await send_media(request, spec.relative, headers, "This clip is missing on this server.")


@operation(
    summary="A range of a sitting as its own .m4a (no re-encode; MP4 chapters inside; Range requests)",
    tags=["podcast"],
    query=ClipQuery,
    produces=["audio/mp4"],
    responses={404: "No such debate, or not published yet", 302: "That version was replaced"},
)
async def range_clip(request: web.Request, *, query: ClipQuery) -> web.StreamResponse:
    target = await load_published(request, uuid_param(request, "debate_id", "debate"))
    if query.start >= target.duration:
        raise invalid("query.start", f"the sitting lasts {target.duration:.3f} s; start must be before that")
    if query.end > target.duration + END_TOLERANCE_S:
        raise invalid("query.end", f"the sitting lasts {target.duration:.3f} s; end must not be after that")
    end = min(query.end, target.duration)
    spec = ClipSpec(
        debate_id=target.debate_id,
        version=target.version,
        start_ms=to_ms(query.start),
        end_ms=to_ms(end),
        rung=target.rung,
        chapters=packager_chapters(target.chapters),
        title=f"{target.source.title} ({clock(query.start)}–{clock(end)})",
        tags={
            "artist": target.source.body or "Assemblée nationale",
            "album": target.source.title,
            "date": day(target.source.starts_at),
        },
    )
    return await serve_clip(request, target, spec, asked_version=query.version, parameter="query.start")


def chapter_index(request: web.Request, chapters: list[Chapter]) -> Chapter:
    raw = request.match_info["index"]
    found = next((c for c in chapters if str(c.index) == raw), None)
    if found is None:
        known = f"1–{len(chapters)}" if chapters else "none"
        raise invalid("path.index", f"no chapter {raw!r} in this debate (chapters: {known})")
    return found


@operation(
    summary="One intervention (a chapter) as its own .m4a (no re-encode; Range requests)",
    tags=["podcast"],
    query=VersionQuery,
    produces=["audio/mp4"],
    responses={404: "No such debate, or not published yet", 302: "That version was replaced"},
)
async def chapter_clip(request: web.Request, *, query: VersionQuery) -> web.StreamResponse:
    target = await load_published(request, uuid_param(request, "debate_id", "debate"))
    chapter = chapter_index(request, target.chapters)
    chapters = packager_chapters(target.chapters)
    spec = intervention_spec(
        target.debate_id,
        target.version,
        target.rung,
        next(c for c in chapters if c.index == chapter.index),
        chapters,
        duration=target.duration,
        album=target.source.title,
        starts_at=target.source.starts_at,
    )
    return await serve_clip(request, target, spec, asked_version=query.version, parameter="path.index")

"""``/api/v1/debates/{debate_id}/podcast-chapters.json``: the Podcasting 2.0 JSON chapters (version
1.2.0) of the current version, one per intervention, titled "Name (GROUP) — topic"."""

from __future__ import annotations

import json

from aiohttp import web

from ..cache.invalidation import DEBATES
from ..cache.responses import cached_response
from ..catalog.models import Chapter
from ..web import keys
from ..web.openapi import operation
from ..web.path_params import uuid_param
from .clips import load_published
from .feed_xml import CHAPTERS_TYPE, Person

CHAPTERS_VERSION = "1.2.0"
CACHE_CONTROL = "public, max-age=300"


def chapter_title(chapter: Chapter) -> str:
    speaker = chapter.speaker
    label = Person(speaker.name, speaker.group).label if speaker else "Assemblée nationale"
    return f"{label} — {chapter.title}" if chapter.title else label


def podcast_chapters(chapters: list[Chapter]) -> dict[str, object]:
    return {
        "version": CHAPTERS_VERSION,
        "chapters": [{"startTime": round(c.start, 3), "title": chapter_title(c)} for c in chapters],
    }


@operation(
    summary="Podcasting 2.0 JSON chapters (1.2.0) of a published debate",
    tags=["podcast"],
    produces=[CHAPTERS_TYPE],
    responses={404: "No such debate, or not published yet"},
)
async def get_podcast_chapters(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        published = await load_published(request, debate_id)
        return json.dumps(podcast_chapters(published.chapters), ensure_ascii=False).encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(
        DEBATES, f"podcast-chapters:{debate_id}", build
    )
    return cached_response(request, cached, CACHE_CONTROL, f"{CHAPTERS_TYPE}; charset=utf-8")

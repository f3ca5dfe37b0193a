"""``/api/v1/debates/{debate_id}/transcript``: the words of the published version (DESIGN §8)."""

from __future__ import annotations

from aiohttp import web

from ..cache.invalidation import DEBATES
from ..cache.responses import cached_response
from ..web import keys
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.path_params import uuid_param
from . import debate_queries
from .debates import DETAIL_CACHE_CONTROL
from .models import Transcript
from .transcript_queries import get_transcript


@operation(
    summary="The words of a debate: its compte rendu's paragraphs, timed (transcript.json)",
    tags=["debates"],
    response=Transcript,
    responses={404: "No such debate, or its published version has no words"},
)
async def get_debate_transcript(request: web.Request) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            transcript = await get_transcript(conn, debate_id)
            if transcript is None:
                if not await debate_queries.debate_exists(conn, debate_id):
                    raise NotFound("No debate with this id.")
                raise NotFound("This debate has no transcript yet: its compte rendu has not been attached.")
        return transcript.model_dump_json().encode()

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, f"transcript:{debate_id}", build)
    return cached_response(request, cached, DETAIL_CACHE_CONTROL)

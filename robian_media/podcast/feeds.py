"""``/api/v1/feeds/debates.rss`` and ``/api/v1/feeds/speakers/{speaker_id}.rss`` (DESIGN §9): what podcast
apps subscribe to. Cached like the API (strong ETag, 304) in the ``debates`` namespace, which every
publish invalidates (cache/invalidation.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field

from ..cache.invalidation import DEBATES
from ..cache.responses import CachedBody, cached_response
from ..catalog import debate_queries as catalog_db
from ..catalog import speaker_queries
from ..catalog.models import Debate
from ..media.clips import clip_relative, intervention_range, to_ms, top_rung_dir
from ..media.urls import download_file
from ..web import keys
from ..web.errors import NotFound
from ..web.openapi import operation
from ..web.query_params import QueryModel
from . import queries as db
from .clips import clock
from .feed_xml import RSS_CONTENT_TYPE, Channel, Item, Person, build_feed
from .urls import PodcastUrls

FEED_CACHE_CONTROL = "public, max-age=300"
# kept and sent gzipped (podcast apps and aggregators all accept it): a 100-item feed is ≈ 110 KB of
# XML, ≈ 10 KB compressed; sending those bytes, not building them, is what a cached feed costs
GZIP_LEVEL = 6
MAX_ITEMS = 100
# HEAD requests a feed makes at once to a remote store for its enclosures' lengths
SIZE_LOOKUPS = 16
AN_DEPUTY_PAGE = "https://www.assemblee-nationale.fr/dyn/deputes/{id}"
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


class DebateFeedQuery(QueryModel):
    body: str | None = Field(None, max_length=200, description="séance publique, a commission… (any case)")
    chamber: str | None = Field(None, max_length=64, description="e.g. AN")
    speaker_id: str | None = Field(None, max_length=64, description="debates where this speaker spoke")


def french_day(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(catalog_db.SITTING_TIMEZONE))
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def file_size(path: str) -> int | None:
    """Plain ``os.stat`` on a string path: a feed asks it 100 times (pathlib costs more than the stat)."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


async def media_sizes(request: web.Request, wanted: list[str]) -> dict[str, int | None]:
    """Bytes of each file of the layout (None: not there): stats of the media root, or HEAD requests to
    a remote store, SIZE_LOOKUPS at once (a feed is built once per publish, then cached)."""
    store = request.app[keys.MEDIA_STORE]
    if store.serves_packager_files:
        root = str(request.app[keys.SETTINGS].media_root)
        return {key: file_size(f"{root}/{key}") for key in wanted}
    limit = asyncio.Semaphore(SIZE_LOOKUPS)

    async def size(key: str) -> int | None:
        async with limit:
            return await store.size(key)

    return dict(zip(wanted, await asyncio.gather(*(size(key) for key in wanted)), strict=True))


def estimated_size(variants: list[dict[str, Any]], seconds: float) -> int:
    """A file not made yet: its length from the top rung's average bit rate (RSS needs a length)."""
    rung = top_rung_dir(variants)
    top = next((v for v in variants if str(v.get("uri", "")).startswith(f"{rung}/")), {})
    rate = int(top.get("average_bandwidth") or top.get("bandwidth") or 128_000)
    return max(1, round(rate * seconds / 8))


def person(speaker: dict[str, Any]) -> Person:
    sid = speaker.get("id")
    href = AN_DEPUTY_PAGE.format(id=sid) if isinstance(sid, str) and sid.startswith("PA") else None
    return Person(name=str(speaker["name"]), group=speaker.get("group"), href=href)


def transcript_file(debate_id: UUID, version: int) -> str:
    return f"{debate_id}/v{version}/transcript.vtt"


def debate_item(
    urls: PodcastUrls, sizes: dict[str, int | None], debate: Debate, extras: db.FeedExtras
) -> Item:
    version = extras.version
    duration = debate.duration or 0.0
    persons = [person(s) for s in extras.speakers]
    length = sizes.get(download_file(debate.id, version))
    has_words = sizes.get(transcript_file(debate.id, version)) is not None
    parts = [debate.body or "", french_day(debate.starts_at)]
    if persons:
        parts.append("Interventions : " + ", ".join(p.label for p in persons))
    if extras.description:
        parts.append(extras.description)
    return Item(
        title=debate.title,
        guid=str(debate.id),
        link=urls.debate_page(debate.id),
        description=" · ".join(part for part in parts if part),
        published=debate.starts_at or extras.published_at,
        enclosure_url=urls.download(debate.id),
        enclosure_length=length if length is not None else estimated_size(extras.variants, duration),
        duration=duration,
        chapters_url=urls.podcast_chapters(debate.id),
        transcript_url=urls.transcript_vtt(debate.id, version) if has_words else None,
        alternate_hls_url=urls.master(debate.id),
        persons=persons,
    )


def feed_response(request: web.Request, gzipped: CachedBody) -> web.Response:
    """The cached gzipped feed as it is, or inflated for a client that does not take gzip; each with
    its own strong ETag (two representations), 304 on a match."""
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response = cached_response(request, gzipped, FEED_CACHE_CONTROL, RSS_CONTENT_TYPE)
        if response.status == 200:
            headers["Content-Encoding"] = "gzip"
    else:
        identity = CachedBody(gzipped.etag[:-1] + '-identity"', gzip.decompress(gzipped.body))
        response = cached_response(request, identity, FEED_CACHE_CONTROL, RSS_CONTENT_TYPE)
    response.headers.update(headers)
    return response


def feed_title(query: DebateFeedQuery, speaker_name: str | None) -> str:
    title = "Débats de l'Assemblée nationale"
    if query.body:
        title += f" — {query.body}"
    if speaker_name:
        title += f" — avec {speaker_name}"
    return title


@operation(
    summary="Podcast feed (RSS 2.0 + iTunes + Podcasting 2.0) of published sittings, newest first",
    tags=["podcast"],
    query=DebateFeedQuery,
    produces=["application/rss+xml"],
    description="At most 100 items; the enclosure is the whole sitting's .m4a. ETag / If-None-Match.",
)
async def debates_feed(request: web.Request, *, query: DebateFeedQuery) -> web.Response:
    settings = request.app[keys.SETTINGS]
    urls = PodcastUrls(settings.public_base_url)

    async def build() -> bytes:
        filters = catalog_db.DebateFilters(
            chamber=query.chamber, body=query.body, speaker_id=query.speaker_id, statuses=("published",)
        )
        async with request.app[keys.READ_POOL].acquire() as conn:
            debates, _ = await catalog_db.list_debates(conn, filters, limit=MAX_ITEMS, after=None, urls=urls)
            extras = await db.feed_extras(conn, [d.id for d in debates])
            speaker = await speaker_queries.get_speaker(conn, query.speaker_id) if query.speaker_id else None
        listed = [d for d in debates if d.id in extras]
        sizes = await media_sizes(
            request,
            [
                name
                for d in listed
                for name in (
                    download_file(d.id, extras[d.id].version),
                    transcript_file(d.id, extras[d.id].version),
                )
            ],
        )
        items = [debate_item(urls, sizes, d, extras[d.id]) for d in listed]
        given = {k: v for k, v in query.model_dump().items() if v is not None}
        channel = Channel(
            title=feed_title(query, speaker.name if speaker else None),
            link=urls.page(),
            description="Les séances et réunions de l'Assemblée nationale, en audio, "
            "avec un chapitre par intervention.",
            self_url=urls.debates_feed(given),
            image_url=urls.artwork(),
            items=items,
        )
        return gzip.compress(build_feed(channel), GZIP_LEVEL, mtime=0)

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, "feed:" + query.cache_key, build)
    return feed_response(request, cached)


def intervention_clip(row: db.InterventionRow) -> str:
    start, end = intervention_range(row.start, row.end, row.duration)
    return clip_relative(row.debate_id, row.version, to_ms(start), to_ms(end))


def intervention_item(
    urls: PodcastUrls, sizes: dict[str, int | None], speaker: Person, row: db.InterventionRow
) -> Item:
    start, end = intervention_range(row.start, row.end, row.duration)
    length = sizes.get(intervention_clip(row))
    at = (row.starts_at or row.published_at or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=start)
    topic = row.title or row.debate_title
    return Item(
        title=f"{topic} — {french_day(row.starts_at)}" if row.starts_at else topic,
        guid=f"{row.debate_id}/ch-{row.chapter}",
        link=urls.page(debate=str(row.debate_id), t=f"{start:g}", end=f"{end:g}"),
        description=f"{speaker.label}, {row.debate_title} ({row.body or 'Assemblée nationale'}), "
        f"{french_day(row.starts_at)}, {clock(start)}–{clock(end)}.",
        published=at,
        enclosure_url=urls.chapter_clip(row.debate_id, row.chapter, row.version),
        enclosure_length=length if length is not None else estimated_size(row.variants, end - start),
        duration=end - start,
        persons=[speaker],
    )


@operation(
    summary="Podcast feed of one speaker's interventions, latest first; each enclosure is its clip",
    tags=["podcast"],
    produces=["application/rss+xml"],
    responses={404: "No speaker with this id"},
)
async def speaker_feed(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    urls = PodcastUrls(settings.public_base_url)
    speaker_id = request.match_info["speaker_id"]
    if len(speaker_id) > 64:
        raise NotFound("No speaker with this id.")

    async def build() -> bytes:
        async with request.app[keys.READ_POOL].acquire() as conn:
            speaker = await speaker_queries.get_speaker(conn, speaker_id)
            if speaker is None:
                raise NotFound("No speaker with this id.")
            rows = await db.speaker_interventions(conn, speaker_id, MAX_ITEMS)
        who = person({"id": speaker.id, "name": speaker.name, "group": speaker.group})
        sizes = await media_sizes(request, [intervention_clip(row) for row in rows])
        channel = Channel(
            title=f"{who.label} — interventions à l'Assemblée nationale",
            link=who.href or urls.page(),
            description=f"Chaque intervention de {who.label} en séance ou en commission, en audio.",
            self_url=urls.speaker_feed(speaker.id),
            image_url=urls.artwork(),
            items=[intervention_item(urls, sizes, who, row) for row in rows],
        )
        return gzip.compress(build_feed(channel), GZIP_LEVEL, mtime=0)

    cached = await request.app[keys.RESPONSE_CACHE].get_or_build(DEBATES, f"feed-speaker:{speaker_id}", build)
    return feed_response(request, cached)

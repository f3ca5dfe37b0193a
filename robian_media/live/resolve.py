"""What a live ``source_url`` designates: a playlist, an AN portal ``direct.<uid>`` page, or any page.

A playlist (``.m3u8``, an HLS content type, or a body starting ``#EXTM3U``) is used as it is. A
portal page is resolved through its ``data.nvs`` (the file titled ``live``); any other page through
yt-dlp's extractors, in its subprocess behind the socket guard. The fetch policy applies to the page
and to the playlist found (every redirect hop included). Resolution happens when the live job is
submitted (the operator sees why a page cannot be used) and again when a worker starts an attempt:
a portal channel's playlist URL may change from one broadcast to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..ingest.sources.an_portal import parse_data_nvs, portal_video
from ..ingest.sources.fetch_policy import FetchPolicy
from ..ingest.sources.http_fetch import SourceClient
from ..ingest.sources.source_url import normalise_url
from ..ingest.sources.ytdlp_runner import find_live_stream
from ..settings import Settings

MAX_DATA_BYTES = 4 << 20
PEEK_BYTES = 16 << 10
HLS_CONTENT_TYPES = frozenset({"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl"})


@dataclass(frozen=True, slots=True)
class LiveFound:
    source_url: str  # what the sitting is known by: the page (portal pages normalised) or the playlist
    playlist_url: str
    title: str | None = None
    starts_at: datetime | None = None
    body: str | None = None

    @property
    def from_page(self) -> bool:
        return self.playlist_url != self.source_url


def is_playlist_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith((".m3u8", ".m3u"))


async def resolve_live_source(url: str, settings: Settings, client: SourceClient) -> LiveFound:
    """The live playlist behind ``url``; IngestError (SourceRefused, UnsupportedSource, …) says why not."""
    policy = FetchPolicy.from_settings(settings)
    await policy.check_url(url)
    found = await _resolve(url, settings, client, policy)
    if found.from_page:
        await policy.check_url(found.playlist_url)
    return found


async def _resolve(url: str, settings: Settings, client: SourceClient, policy: FetchPolicy) -> LiveFound:
    portal = portal_video(url, settings.an_portal_hosts)
    if portal is not None:  # video.<uid> pages too: data.nvs says whether they are live
        data = parse_data_nvs(
            await client.fetch(portal.data_url, max_bytes=MAX_DATA_BYTES, what="portal data.nvs")
        )
        return LiveFound(
            source_url=normalise_url(portal.page_url),
            playlist_url=data.live_url(),
            title=data.title(),
            starts_at=data.date,
            body=data.body,
        )
    if is_playlist_url(url):
        return LiveFound(source_url=url, playlist_url=url)
    peeked = await client.peek(url, head_bytes=PEEK_BYTES, what="live source")
    if peeked.content_type.lower() in HLS_CONTENT_TYPES or peeked.body.lstrip(b"\xef\xbb\xbf").startswith(
        b"#EXTM3U"
    ):
        return LiveFound(source_url=url, playlist_url=peeked.url)
    stream = await find_live_stream(url, policy=policy, within_seconds=settings.live_resolve_seconds)
    starts_at = datetime.fromtimestamp(stream.timestamp, UTC) if stream.timestamp else None
    return LiveFound(
        source_url=url, playlist_url=stream.playlist_url, title=stream.title, starts_at=starts_at
    )

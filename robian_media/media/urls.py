"""Public URLs of a debate's media (docs/architecture.md §3, §7): built in one place from
``ROBIAN_PUBLIC_BASE_URL``."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from ..web import keys


class MediaUrls:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def master(self, debate_id: UUID | str) -> str:
        """The top master: always points into the current version."""
        return f"{self.base}/hls/{debate_id}/master.m3u8"

    def version_dir(self, debate_id: UUID, version: int) -> str:
        return f"{self.base}/hls/{debate_id}/v{version}"

    def variant(self, debate_id: UUID, version: int, uri: str) -> str:
        return f"{self.version_dir(debate_id, version)}/{uri.lstrip('/')}"

    def chapters_json(self, debate_id: UUID, version: int) -> str:
        return f"{self.version_dir(debate_id, version)}/chapters.json"

    def chapters_vtt(self, debate_id: UUID, version: int) -> str:
        return f"{self.version_dir(debate_id, version)}/chapters.vtt"

    def subtitles(self, debate_id: UUID, version: int) -> str:
        return f"{self.version_dir(debate_id, version)}/subs/index.m3u8"

    def transcript_vtt(self, debate_id: UUID, version: int) -> str:
        return f"{self.version_dir(debate_id, version)}/transcript.vtt"

    def download(self, debate_id: UUID) -> str:
        return f"{self.base}/api/v1/debates/{debate_id}/download"


def media_urls(request: web.Request) -> MediaUrls:
    return MediaUrls(request.app[keys.SETTINGS].public_base_url)


def legacy_file(debate_id: UUID | str) -> str:
    """The old mobile client's download route, relative as its backend gave it."""
    return f"/api/debats/{debate_id}/file"


def download_file(debate_id: UUID | str, version: int) -> str:
    """Path of the offline file, relative to the media root."""
    return f"{debate_id}/v{version}/download.m4a"

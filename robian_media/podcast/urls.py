"""Public URLs of the podcast feature, from ``ROBIAN_PUBLIC_BASE_URL`` (beside ``media.urls``)."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from ..media.urls import MediaUrls

ARTWORK = "static/podcast-artwork.png"


class PodcastUrls(MediaUrls):
    def page(self, **params: str) -> str:
        """The listener page, opened on a debate (``debate``), a range (``t``, ``end``)…"""
        return f"{self.base}/" + (f"?{urlencode(params)}" if params else "")

    def debate_page(self, debate_id: UUID) -> str:
        return f"{self.base}/?debate={debate_id}"

    def artwork(self) -> str:
        return f"{self.base}/{ARTWORK}"

    def debates_feed(self, filters: dict[str, str]) -> str:
        query = urlencode(sorted(filters.items()))
        return f"{self.base}/api/v1/feeds/debates.rss" + (f"?{query}" if query else "")

    def speaker_feed(self, speaker_id: str) -> str:
        return f"{self.base}/api/v1/feeds/speakers/{speaker_id}.rss"

    def podcast_chapters(self, debate_id: UUID) -> str:
        return f"{self.base}/api/v1/debates/{debate_id}/podcast-chapters.json"

    def transcript_vtt(self, debate_id: UUID, version: int) -> str:
        return f"{self.version_dir(debate_id, version)}/transcript.vtt"

    def chapter_clip(self, debate_id: UUID, index: int, version: int) -> str:
        return f"{self.base}/api/v1/debates/{debate_id}/chapters/{index}/clip.m4a?version={version}"

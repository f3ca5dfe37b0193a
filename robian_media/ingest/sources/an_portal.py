"""The Assemblée nationale video portal: ``video.<uid>`` pages, their ``data.nvs`` and ``finalplayer.nvs``.

``data.nvs`` lists the media files, the chapter tree (topics, interventions with a speaker) and
the speakers (``url`` = AN acteur number); it carries no times. ``finalplayer.nvs`` carries them:
``<synchro id timecode(ms)>``, joined on ``chapter@id``. Formats: tests/fixtures/an/FORMATS.md
(reconstructed from public parsers, so everything optional is treated as optional).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from ...jobs.errors import InvalidSourceData, UnsupportedSource
from ..chapter_input import ChapterIn, SpeakerIn
from .an_acteurs import strip_civility
from .xml_safe import parse_xml, text_of

# video.<num>_<hex>, optionally followed by ".<slug>" (the portal appends the title)
VIDEO_PATH = re.compile(r"^/(?P<kind>video|direct)\.(?P<uid>\d+_[0-9a-fA-F]+)(?:[./][^/]*)?/?$")
DATA_PATH = re.compile(r"^/Datas/an/(?P<uid>\d+_[0-9a-fA-F]+)/content/(?:data|finalplayer)\.nvs$")
# media of a sitting, best first: the portal's audio rendition is all we need
MEDIA_PREFERENCE = ("audio", "source")


@dataclass(frozen=True, slots=True)
class PortalVideo:
    """A portal URL taken apart: where its data lives and the canonical page URL (idempotency key)."""

    uid: str
    live: bool
    page_url: str
    data_url: str
    timeline_url: str


@dataclass(slots=True)
class PortalChapter:
    id: str
    label: str
    speaker_id: str | None
    topic: str | None


@dataclass(slots=True)
class PortalData:
    live: bool
    media: list[tuple[str, str]]
    meeting_id: str | None
    body: str | None
    date: datetime | None
    chapters: list[PortalChapter] = field(default_factory=list)
    speakers: dict[str, SpeakerIn] = field(default_factory=dict)

    def media_url(self) -> str:
        if self.live:
            raise UnsupportedSource(
                "This portal video is a live broadcast; live sittings are followed with POST /api/v1/live."
            )
        by_title = dict(self.media)
        for title in MEDIA_PREFERENCE:
            if by_title.get(title):
                return by_title[title]
        if self.media:
            return self.media[0][1]
        raise UnsupportedSource("The portal's data.nvs lists no media file.")

    def live_url(self) -> str:
        """The live HLS playlist of a ``direct.<uid>`` page: the file titled ``live`` while it is live.

        FORMATS.md: ``status`` and the ``live`` title are confirmed, the URL's shape is not: any file
        whose URL names an ``.m3u8`` is taken when none is titled ``live``.
        """
        if not self.live:
            raise UnsupportedSource("This page has no live stream now (the portal says it is not live).")
        by_title = dict(self.media)
        if by_title.get("live"):
            return by_title["live"]
        playlists = [url for _, url in self.media if ".m3u8" in urlsplit(url).path]
        if playlists:
            return playlists[0]
        raise UnsupportedSource(
            "This page has no live stream now (the portal's data.nvs lists no live file)."
        )

    def title(self) -> str | None:
        topics = [c.topic for c in self.chapters if c.topic]
        return topics[0] if topics else None


def portal_video(url: str, hosts: list[str]) -> PortalVideo | None:
    """The portal video ``url`` points at (page or data file), or None if it is not one."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in hosts:
        return None
    page = VIDEO_PATH.match(parts.path)
    data = DATA_PATH.match(parts.path)
    if page is None and data is None:
        return None
    uid = (page or data).group("uid")  # type: ignore[union-attr]
    live = page is not None and page.group("kind") == "direct"
    base = f"/Datas/an/{uid}/content/"

    def at(path: str) -> str:
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))

    return PortalVideo(
        uid=uid,
        live=live,
        page_url=at(f"/{'direct' if live else 'video'}.{uid}"),
        data_url=at(base + "data.nvs"),
        timeline_url=at(base + "finalplayer.nvs"),
    )


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value or "")), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_data_nvs(data: bytes) -> PortalData:
    root = parse_xml(data, "portal data.nvs")
    if root.tag != "data":
        raise InvalidSourceData(f"The portal data.nvs has root <{root.tag}>, not <data>.")
    metadata = {m.get("name", ""): m for m in root.iter("metadata")}

    def meta(name: str, attr: str = "value") -> str | None:
        element = metadata.get(name)
        value = (element.get(attr) or "").strip() if element is not None else ""
        return value or None

    speakers: dict[str, SpeakerIn] = {}
    for speaker in root.iterfind("speakers/speaker"):
        nvs_id = speaker.get("id")
        name = text_of(speaker.find("name"))
        if not nvs_id or not name:
            continue
        number = text_of(speaker.find("url")).strip()
        an_id = f"PA{number}" if number.isdigit() else (number if number.startswith("PA") else None)
        speakers[nvs_id] = SpeakerIn(id=an_id, name=strip_civility(name))

    chapters: list[PortalChapter] = []

    def walk(element: ET.Element, topic: str | None) -> None:
        for chapter in element.findall("chapter"):
            label = (chapter.get("label") or "").strip()
            speaker = chapter.find("speaker")
            speaker_id = speaker.get("id") if speaker is not None else None
            has_children = chapter.find("chapter") is not None
            own_topic = label if (has_children or speaker_id is None) and label else topic
            chapters.append(
                PortalChapter(id=chapter.get("id") or "", label=label, speaker_id=speaker_id, topic=own_topic)
            )
            walk(chapter, own_topic)

    container = root.find("chapters")
    if container is not None:
        walk(container, None)
    return PortalData(
        live=(root.get("status") or "").lower() == "live",
        media=[(f.get("title") or "", f.get("url") or "") for f in root.iter("file") if f.get("url")],
        meeting_id=meta("meeting_id"),
        body=meta("commission", "label") or meta("video_type", "label"),
        date=_epoch(meta("date")),
        chapters=chapters,
        speakers=speakers,
    )


@dataclass(frozen=True, slots=True)
class Timeline:
    starts_at: datetime | None
    timecodes: dict[str, float]


def parse_timeline(data: bytes) -> Timeline:
    """finalplayer.nvs (or liveplayer.nvs): chapter id → seconds from the start of the video."""
    root = parse_xml(data, "portal finalplayer.nvs")
    timecodes: dict[str, float] = {}
    for synchro in root.iter("synchro"):
        try:
            timecodes[synchro.get("id") or ""] = int(synchro.get("timecode") or "") / 1000
        except ValueError:
            continue
    return Timeline(starts_at=_epoch(root.get("starttime")), timecodes=timecodes)


def portal_chapters(data: PortalData, timeline: Timeline) -> list[ChapterIn]:
    """Interventions (chapters with a speaker and a time), in time order; titles are their topic."""
    found: dict[float, ChapterIn] = {}
    for chapter in data.chapters:
        start = timeline.timecodes.get(chapter.id)
        speaker = data.speakers.get(chapter.speaker_id or "")
        if start is None or speaker is None or start in found:
            continue
        title = chapter.topic if chapter.topic and chapter.topic != chapter.label else chapter.label
        found[start] = ChapterIn(start=start, speaker=speaker, title=title or None)
    return [found[start] for start in sorted(found)]

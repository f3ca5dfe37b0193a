"""RSS 2.0 with the iTunes and Podcasting 2.0 namespaces (DESIGN §9), built as an lxml tree: every text
and attribute is escaped by the serializer, never by hand."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM}
# podcast:guid is a UUIDv5 of the feed URL in this namespace (Podcasting 2.0, the <podcast:guid> tag)
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"
CHAPTERS_TYPE = "application/json+chapters"
HLS_TYPE = "application/x-mpegURL"


def podcast_guid(feed_url: str) -> uuid.UUID:
    """The feed's podcast:guid: UUIDv5 of its URL without the scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return uuid.uuid5(PODCAST_GUID_NAMESPACE, bare)


@dataclass(frozen=True)
class Person:
    name: str
    group: str | None = None
    href: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.group})" if self.group else self.name


@dataclass(frozen=True)
class Item:
    title: str
    guid: str
    link: str
    description: str
    published: dt.datetime | None
    enclosure_url: str
    enclosure_length: int
    duration: float
    chapters_url: str | None = None
    transcript_url: str | None = None
    alternate_hls_url: str | None = None
    persons: Sequence[Person] = ()


@dataclass(frozen=True)
class Channel:
    title: str
    link: str
    description: str
    self_url: str
    image_url: str
    author: str = "Assemblée nationale"
    items: Sequence[Item] = field(default_factory=list)


# what XML 1.0 cannot carry at all, escaped or not (C0 controls but tab and newlines, U+FFFE/U+FFFF):
# it may come from a source's title or a filter echoed in the channel's title
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _sub(parent: etree._Element, tag: str, content: str | None = None, /, **attrs: str) -> etree._Element:
    """A child element; ``content`` its text, ``attrs`` its attributes (both escaped by lxml)."""
    element = etree.SubElement(parent, tag, {name: xml_text(value) for name, value in attrs.items()})
    if content is not None:
        element.text = xml_text(content)
    return element


def _it(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def _pc(name: str) -> str:
    return f"{{{PODCAST}}}{name}"


def rfc2822(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def _item(channel: etree._Element, item: Item) -> None:
    node = _sub(channel, "item")
    _sub(node, "title", item.title)
    _sub(node, "link", item.link)
    _sub(node, "description", item.description)
    _sub(node, "guid", item.guid, isPermaLink="false")
    if item.published is not None:
        _sub(node, "pubDate", rfc2822(item.published))
    _sub(node, "enclosure", url=item.enclosure_url, length=str(item.enclosure_length), type="audio/mp4")
    _sub(node, _it("title"), item.title)
    _sub(node, _it("duration"), str(round(item.duration)))
    _sub(node, _it("explicit"), "false")
    if item.chapters_url:
        _sub(node, _pc("chapters"), url=item.chapters_url, type=CHAPTERS_TYPE)
    if item.transcript_url:
        _sub(node, _pc("transcript"), url=item.transcript_url, type="text/vtt", language="fr")
    for person in item.persons:
        attrs = {"role": "guest", "group": "cast"}
        if person.href:
            attrs["href"] = person.href
        _sub(node, _pc("person"), person.label, **attrs)
    if item.alternate_hls_url:
        alternate = _sub(node, _pc("alternateEnclosure"), type=HLS_TYPE, title="HLS")
        _sub(alternate, _pc("source"), uri=item.alternate_hls_url)


def build_feed(channel: Channel) -> bytes:
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=NSMAP)
    node = _sub(rss, "channel")
    _sub(node, f"{{{ATOM}}}link", href=channel.self_url, rel="self", type="application/rss+xml")
    _sub(node, "title", channel.title)
    _sub(node, "link", channel.link)
    _sub(node, "description", channel.description)
    _sub(node, "language", "fr")
    _sub(node, "generator", "robian-media")
    image = _sub(node, "image")
    _sub(image, "url", channel.image_url)
    _sub(image, "title", channel.title)
    _sub(image, "link", channel.link)
    _sub(node, _it("image"), href=channel.image_url)
    _sub(node, _it("category"), text="Government")
    _sub(node, _it("author"), channel.author)
    _sub(node, _it("explicit"), "false")
    _sub(node, _it("type"), "episodic")
    _sub(node, _pc("guid"), str(podcast_guid(channel.self_url)))
    _sub(node, _pc("locked"), "no")
    for item in channel.items:
        _item(node, item)
    return bytes(etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True))

"""Podcast feeds as podcast apps read them: gPodder's podcastparser and feedparser parse every feed,
every enclosure downloads and decodes to its range with its chapters, ETag/304, invalidated on
publish; the Podcasting 2.0 JSON chapters validate against the spec's schema."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import asyncpg
import feedparser
import jsonschema
import podcastparser
import pytest
from lxml import etree
from PIL import Image

from packager.chapters import Chapter, Speaker
from packager.rendition import Rendition
from robian_media.cache.invalidation import invalidate_debate_caches
from robian_media.podcast.feed_xml import PODCAST, podcast_guid
from robian_media.settings import Settings

from .conftest import FRAME, PublishedDebate, decodes, ffprobe, publish_rendition

SCHEMA = json.loads((Path(__file__).parent / "podcast-chapters.schema.json").read_text(encoding="utf-8"))


def own_speakers(chapters: list[Chapter]) -> list[Chapter]:
    """The sitting's chapters spoken by deputies of this test's own (other tests' rows never match)."""
    run = uuid.uuid4().int % 10**6
    return [
        c.model_copy(
            update={"speaker": Speaker(id=f"PA8{run:06d}{i}", name=c.speaker.name, group=c.speaker.group)}
        )
        for i, c in enumerate(chapters)
    ]


@pytest.fixture
def marker() -> str:
    return "Commission T" + uuid.uuid4().hex[:8]


async def fetch(client: Any, url: str, **kwargs: Any) -> Any:
    """GET an absolute URL of the feed (``ROBIAN_PUBLIC_BASE_URL`` is http://media.test) from the app."""
    parts = urlsplit(url)
    assert parts.netloc == "media.test", url
    return await client.get(parts.path + (f"?{parts.query}" if parts.query else ""), **kwargs)


async def download(client: Any, url: str, path: Path) -> Path:
    resp = await fetch(client, url)
    assert resp.status == 200, (url, await resp.text())
    path.write_bytes(await resp.read())
    return path


async def test_the_debates_feed_in_podcast_apps(
    client: Any, db: asyncpg.Connection, settings: Settings, rendition: Rendition, marker: str, tmp_path: Path
) -> None:
    first = await publish_rendition(
        db, settings, rendition, title="Audition du ministre <budget> & co", body=marker
    )
    (first.version_dir / "transcript.vtt").write_text("WEBVTT\n\n", encoding="utf-8")  # a sitting with words
    url = "/api/v1/feeds/debates.rss?" + urlencode({"body": marker})
    resp = await client.get(url)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    body = await resp.read()

    # gPodder's parser
    parsed = podcastparser.parse("http://media.test" + url, io.BytesIO(body))
    assert parsed["title"] == f"Débats de l'Assemblée nationale — {marker}"
    assert parsed["language"] == "fr" and parsed["itunes_categories"] == [["Government"]]
    assert parsed["cover_url"] == "http://media.test/static/podcast-artwork.png"
    [episode] = parsed["episodes"]
    assert episode["title"] == "Audition du ministre <budget> & co" and episode["guid"] == str(first.id)
    assert episode["total_time"] == round(first.duration)
    [enclosure] = episode["enclosures"]
    assert enclosure["mime_type"] == "audio/mp4"
    assert enclosure["url"] == f"http://media.test/api/v1/debates/{first.id}/download"
    whole = await download(client, enclosure["url"], tmp_path / "whole.m4a")
    assert enclosure["file_size"] == whole.stat().st_size
    decodes(whole)
    info = ffprobe(whole)
    assert abs(float(info["format"]["duration"]) - first.duration) <= FRAME
    assert len(info["chapters"]) == len(first.chapters)

    # feedparser: the Podcasting 2.0 tags
    feed = feedparser.parse(body)
    assert not feed.bozo
    [self_link] = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_link == "http://media.test" + url
    assert feed.feed.podcast_guid == str(podcast_guid(self_link))
    assert feed.feed.podcast_locked == "no"
    [entry] = feed.entries
    assert entry.podcast_chapters == {
        "url": f"http://media.test/api/v1/debates/{first.id}/podcast-chapters.json",
        "type": "application/json+chapters",
    }
    assert entry.podcast_transcript == {
        "url": f"http://media.test/hls/{first.id}/v1/transcript.vtt",
        "type": "text/vtt",
        "language": "fr",
    }
    assert entry.podcast_source == {"uri": f"http://media.test/hls/{first.id}/master.m3u8"}
    assert entry.podcast_alternateenclosure["type"] == "application/x-mpegurl"
    # one podcast:person per speaker (feedparser keeps only the last one: read them as XML)
    persons = etree.fromstring(body).findall(f"channel/item/{{{PODCAST}}}person")
    assert [p.text for p in persons] == [f"{c.speaker.name} ({c.speaker.group})" for c in first.chapters]

    # conditional GET, then a publish changes the feed
    etag = resp.headers["ETag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status == 304
    second = await publish_rendition(db, settings, rendition, title="Suite de la séance", body=marker)
    await invalidate_debate_caches(client.app, second.id)  # what the publishing job does after its commit
    resp = await client.get(url, headers={"If-None-Match": etag})
    assert resp.status == 200
    titles = [e["title"] for e in podcastparser.parse(url, io.BytesIO(await resp.read()))["episodes"]]
    assert sorted(titles) == ["Audition du ministre <budget> & co", "Suite de la séance"]


async def test_filters_and_the_feed_without_words(
    client: Any, db: asyncpg.Connection, settings: Settings, rendition: Rendition, marker: str
) -> None:
    chapters = own_speakers(rendition.chapters)
    spoke = await publish_rendition(db, settings, rendition, body=marker, chamber="AN", chapters=chapters)
    await publish_rendition(db, settings, rendition, body=marker, chamber="SN")
    for query, expected in (
        (f"body={marker}&chamber=AN", [spoke.id]),
        (f"body={marker}&speaker_id={chapters[0].speaker.id}", [spoke.id]),
        (f"body={marker}&chamber=XX", []),
    ):
        feed = feedparser.parse(await (await client.get(f"/api/v1/feeds/debates.rss?{query}")).read())
        assert [e.id for e in feed.entries] == [str(d) for d in expected], query
        assert all("podcast_transcript" not in e for e in feed.entries)
    with_speaker = feedparser.parse(
        await (await client.get(f"/api/v1/feeds/debates.rss?speaker_id={chapters[0].speaker.id}")).read()
    )
    assert with_speaker.feed.title.endswith(f"avec {chapters[0].speaker.name}")


async def test_a_speakers_feed_has_each_intervention_as_its_clip(
    client: Any, db: asyncpg.Connection, settings: Settings, rendition: Rendition, tmp_path: Path
) -> None:
    chapters = own_speakers(rendition.chapters)
    # the same deputy speaks twice in the sitting
    twice = [
        chapters[0],
        chapters[1],
        chapters[2].model_copy(update={"speaker": chapters[0].speaker}),
        chapters[3],
    ]
    debate = await publish_rendition(db, settings, rendition, chapters=twice)
    speaker = twice[0].speaker
    url = f"/api/v1/feeds/speakers/{speaker.id}.rss"
    resp = await client.get(url)
    assert resp.status == 200, await resp.text()
    body = await resp.read()
    parsed = podcastparser.parse("http://media.test" + url, io.BytesIO(body))
    assert parsed["title"] == f"{speaker.name} ({speaker.group}) — interventions à l'Assemblée nationale"
    episodes = parsed["episodes"]
    assert [e["guid"] for e in episodes] == [f"{debate.id}/ch-3", f"{debate.id}/ch-1"]  # the latest first
    for episode, chapter in zip(episodes, [twice[2], twice[0]], strict=True):
        [enclosure] = episode["enclosures"]
        assert enclosure["url"] == (
            f"http://media.test/api/v1/debates/{debate.id}/chapters/{chapter.index}/clip.m4a?version=1"
        )
        assert episode["total_time"] == round(chapter.duration)
        clip = await download(client, enclosure["url"], tmp_path / f"{chapter.index}.m4a")
        decodes(clip)
        info = ffprobe(clip)
        assert abs(float(info["format"]["duration"]) - chapter.duration) <= FRAME
        assert len(info["chapters"]) == 1
        # not made yet when the feed was built: the length was estimated from the rung's bit rate
        assert abs(enclosure["file_size"] - clip.stat().st_size) / clip.stat().st_size < 0.25
    feed = feedparser.parse(body)
    assert not feed.bozo and feed.feed.podcast_guid == str(podcast_guid("http://media.test" + url))

    # once the clips exist, their exact lengths (after the cache moves on, e.g. at the next publish)
    await invalidate_debate_caches(client.app, debate.id)
    again = podcastparser.parse(url, io.BytesIO(await (await client.get(url)).read()))
    sizes = {(tmp_path / f"{c.index}.m4a").stat().st_size for c in (twice[0], twice[2])}
    assert {e["enclosures"][0]["file_size"] for e in again["episodes"]} == sizes


async def test_unknown_speakers_and_bad_filters(client: Any) -> None:
    for speaker in ("PA0000000", "x" * 80):
        resp = await client.get(f"/api/v1/feeds/speakers/{speaker}.rss")
        assert resp.status == 404 and resp.headers["Content-Type"].startswith("application/problem+json")
    resp = await client.get("/api/v1/feeds/debates.rss?body=" + "x" * 300)
    problem = await resp.json(content_type=None)
    assert resp.status == 422 and problem["errors"][0]["location"] == "query.body"


async def test_podcast_chapters_json_follows_the_spec(
    client: Any, published: PublishedDebate, db: asyncpg.Connection
) -> None:
    resp = await client.get(f"/api/v1/debates/{published.id}/podcast-chapters.json")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json+chapters; charset=utf-8"
    document = json.loads(await resp.read())
    jsonschema.validate(document, SCHEMA)
    assert document["chapters"] == [
        {
            "startTime": round(c.start, 3),
            "title": f"{c.speaker.name} ({c.speaker.group})" + (f" — {c.title}" if c.title else ""),
        }
        for c in published.chapters
    ]
    assert document["chapters"][1]["title"] == "Marine Le Pen (RN) — Projet de loi de finances"
    unknown = await client.get("/api/v1/debates/00000000-0000-4000-8000-000000000000/podcast-chapters.json")
    assert unknown.status == 404
    from tests.factories import create_debate

    pending = await create_debate(db, status="processing", version=None)
    assert (await client.get(f"/api/v1/debates/{pending}/podcast-chapters.json")).status == 404


def test_podcast_guid_is_the_namespace_uuid5_of_the_feed_url() -> None:
    # the example of the Podcasting 2.0 <podcast:guid> specification
    assert (
        str(podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml/"))
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )


async def test_the_artwork_is_a_square_png_podcast_directories_accept(client: Any) -> None:
    resp = await client.get("/static/podcast-artwork.png")
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(await resp.read()))
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.width == image.height >= 1400


async def test_feeds_travel_gzipped_and_plain_for_clients_without_gzip(
    client: Any, published: PublishedDebate
) -> None:
    url = "/api/v1/feeds/debates.rss?body=S%C3%A9ance+publique"
    zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert zipped.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    assert await zipped.read() == await plain.read()  # the same feed once inflated
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # two representations, two strong ETags
    for headers, etag in ((zipped.headers, "gzip"), (plain.headers, "identity")):
        again = await client.get(url, headers={"Accept-Encoding": etag, "If-None-Match": headers["ETag"]})
        assert again.status == 304
    assert (
        await client.get(
            url, headers={"Accept-Encoding": "identity", "If-None-Match": zipped.headers["ETag"]}
        )
    ).status == 200


async def test_text_xml_cannot_carry_is_left_out_never_a_500(
    client: Any, db: asyncpg.Connection, settings: Settings, rendition: Rendition, marker: str
) -> None:
    # found by fuzzing: control characters in a filter (echoed in the title) and in stored titles
    await publish_rendition(db, settings, rendition, title="Séance\x0b du\x1f soir", body=marker)
    for query in (urlencode({"body": marker}), "body=%1FH&chamber=%C2%9B%0D"):
        resp = await client.get(f"/api/v1/feeds/debates.rss?{query}")
        assert resp.status == 200, await resp.text()
        feed = feedparser.parse(await resp.read())
        assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Débats de l'Assemblée nationale — H"
    marked = feedparser.parse(
        await (await client.get(f"/api/v1/feeds/debates.rss?{urlencode({'body': marker})}")).read()
    )
    assert [e.title for e in marked.entries] == ["Séance du soir"]

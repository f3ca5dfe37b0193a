"""clip.m4a: any range or intervention of a published sitting, cut once without re-encoding, kept
within the disk budget, served with Range/ETag, through nginx's X-Accel-Redirect when it is in front."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.factories import create_debate
from tests.metadata.test_download import nginx_in_front  # noqa: F401  (fixture)

from .conftest import FRAME, PublishedDebate, decodes, ffprobe, publish_rendition


def made(metrics: str) -> float:
    found = re.search(r"^robian_clips_made_total (\S+)$", metrics, re.M)
    return float(found[1]) if found else 0.0


async def save(resp: aiohttp.ClientResponse, path: Path) -> Path:
    path.write_bytes(await resp.read())
    return path


async def test_a_range_is_an_m4a_of_that_range_with_its_chapters(
    client: Any, published: PublishedDebate, tmp_path: Path
) -> None:
    url = f"/api/v1/debates/{published.id}/clip.m4a?start=5&end=20"
    resp = await client.get(url)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "audio/mp4"
    assert resp.headers["Cache-Control"] == "public, max-age=300"  # follows the current version
    assert resp.headers["Accept-Ranges"] == "bytes" and resp.headers["ETag"]
    clip = await save(resp, tmp_path / "clip.m4a")
    decodes(clip)
    info = ffprobe(clip)
    assert abs(float(info["format"]["duration"]) - 15.0) <= FRAME
    overlapping = [c for c in published.chapters if c.start < 20 and c.end > 5]
    assert [c["tags"]["title"] for c in info["chapters"]] == [c.label for c in overlapping]
    tags = info["format"]["tags"]
    assert tags["title"] == "Séance publique du 15 janvier (0:05–0:20)" and tags["date"] == "2025-01-15"

    # the same bytes again: conditional and partial requests
    again = await client.get(url, headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304
    part = await client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and await part.read() == clip.read_bytes()[100:200]

    # with the version, the answer never changes: immutable
    pinned = await client.get(url + "&version=1")
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert await pinned.read() == clip.read_bytes()
    replaced = await client.get(url + "&version=7", allow_redirects=False)
    assert replaced.status == 302 and replaced.headers["Location"].endswith("version=1")


async def test_an_intervention_is_its_own_clip(
    client: Any, published: PublishedDebate, tmp_path: Path
) -> None:
    chapter = published.chapters[1]
    resp = await client.get(f"/api/v1/debates/{published.id}/chapters/{chapter.index}/clip.m4a")
    assert resp.status == 200, await resp.text()
    clip = await save(resp, tmp_path / "intervention.m4a")
    decodes(clip)
    info = ffprobe(clip)
    assert abs(float(info["format"]["duration"]) - chapter.duration) <= FRAME
    assert [c["tags"]["title"] for c in info["chapters"]] == [chapter.label]
    assert info["format"]["tags"]["artist"] == chapter.speaker.name
    assert "attachment;" in resp.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("start=20&end=5", "query.end"),
        ("start=5&end=5", "query.end"),
        ("start=0&end=3601", "query.end"),
        ("start=abc&end=5", "query.start"),
        ("start=nan&end=5", "query.start"),
        ("start=-1&end=5", "query.start"),
        ("start=1", "query.end"),
        ("start=5&end=999", "query.end"),
        ("start=999&end=1000", "query.start"),
        ("start=1&end=2&version=zero", "query.version"),
    ],
)
async def test_bad_ranges_are_refused_naming_the_parameter(
    client: Any, published: PublishedDebate, settings: Settings, query: str, parameter: str
) -> None:
    resp = await client.get(f"/api/v1/debates/{published.id}/clip.m4a?{query}")
    assert resp.status == 422
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    problem = await resp.json(content_type=None)
    assert parameter in [error["location"] for error in problem["errors"]]
    assert not (settings.media_root / "clips").exists()  # nothing made, nothing half-written


async def test_unknown_chapters_debates_and_unpublished_ones(
    client: Any, published: PublishedDebate, db: asyncpg.Connection
) -> None:
    for index in ("99", "0", "x"):
        resp = await client.get(f"/api/v1/debates/{published.id}/chapters/{index}/clip.m4a")
        problem = await resp.json(content_type=None)
        assert resp.status == 422 and problem["errors"][0]["location"] == "path.index", problem
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"{unknown}/clip.m4a?start=1&end=2",
        f"{unknown}/chapters/1/clip.m4a",
        "nope/clip.m4a?start=1&end=2",
    ):
        resp = await client.get(f"/api/v1/debates/{path}")
        assert resp.status == 404 and resp.headers["Content-Type"].startswith("application/problem+json")
    processing = await create_debate(db, status="processing", version=None)
    building = await create_debate(db, status="processing", rendition_status="building")
    for debate in (processing, building):
        resp = await client.get(f"/api/v1/debates/{debate}/clip.m4a?start=1&end=2")
        assert resp.status == 404 and "packag" in (await resp.json(content_type=None))["detail"]


async def test_a_hundred_first_requests_make_one_clip(client: Any, published: PublishedDebate) -> None:
    url = f"/api/v1/debates/{published.id}/clip.m4a?start=2.5&end=30"

    async def fetch() -> bytes:
        resp = await client.get(url)
        assert resp.status == 200
        return bytes(await resp.read())

    bodies = await asyncio.gather(*(fetch() for _ in range(100)))
    assert len(set(bodies)) == 1 and len(bodies[0]) > 10_000
    assert made(await (await client.get("/metrics")).text()) == 1.0


async def test_clips_stay_within_the_disk_budget_least_recently_used_first(
    aiohttp_client: Callable[..., Any],
    make_settings: Callable[..., Settings],
    db: asyncpg.Connection,
    rendition: Any,
) -> None:
    # about three 8-second clips of the 128 kbit/s rung
    settings = make_settings(clips_max_bytes=3 * 8 * 16_000 + 20_000)
    client = await aiohttp_client(create_app(settings))
    debate = await publish_rendition(db, settings, rendition)
    clips = settings.media_root / "clips" / str(debate.id) / "v1"

    async def get(start: int) -> None:
        resp = await client.get(f"/api/v1/debates/{debate.id}/clip.m4a?start={start}&end={start + 8}")
        assert resp.status == 200
        await resp.read()

    for start in (0, 8, 16):
        await get(start)
    await asyncio.sleep(0.01)
    await get(0)  # used again: now the most recent
    await get(24)  # over budget: the least recently used (8–16) goes
    kept = sorted(p.name for p in clips.glob("*.m4a"))
    assert kept == ["0-8000.m4a", "16000-24000.m4a", "24000-32000.m4a"]
    assert sum(p.stat().st_size for p in clips.glob("*.m4a")) <= settings.clips_max_bytes
    await get(8)  # evicted clips are made again on demand
    assert made(await (await client.get("/metrics")).text()) == 5.0


async def test_behind_nginx_the_clip_comes_from_nginx(
    aiohttp_client: Callable[..., Any],
    make_settings: Callable[..., Settings],
    db: asyncpg.Connection,
    rendition: Any,
    nginx_in_front: Callable[[int, Path], int],  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = make_settings(behind_nginx=True)
    client = await aiohttp_client(create_app(settings))
    debate = await publish_rendition(db, settings, rendition)
    path = f"/api/v1/debates/{debate.id}/chapters/1/clip.m4a?version=1"
    direct = await client.get(path)
    assert (
        direct.headers["X-Accel-Redirect"]
        == f"/_media/clips/{debate.id}/v1/0-{round(debate.chapters[0].end * 1000)}.m4a"
    )

    port = nginx_in_front(client.server.port, settings.media_root)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "audio/mp4"
            assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert resp.headers["ETag"]
            whole = await save(resp, tmp_path / "via-nginx.m4a")
        async with session.get(f"http://127.0.0.1:{port}{path}", headers={"Range": "bytes=0-99"}) as resp:
            assert resp.status == 206 and await resp.read() == whole.read_bytes()[:100]
    assert abs(float(ffprobe(whole)["format"]["duration"]) - debate.chapters[0].duration) <= FRAME


async def test_a_range_with_no_whole_frame_is_refused_and_missing_media_is_not_found(
    client: Any, published: PublishedDebate, settings: Settings
) -> None:
    # inside the sitting, but the last 5 ms hold no frame's middle: nothing to cut
    start = published.duration - 0.005
    resp = await client.get(f"/api/v1/debates/{published.id}/clip.m4a?start={start}&end={published.duration}")
    problem = await resp.json(content_type=None)
    assert resp.status == 422 and problem["errors"][0]["location"] == "query.start", problem
    # the version's files are gone from this server (a disk mix-up): 404, not a 500
    shutil.rmtree(published.version_dir)
    resp = await client.get(f"/api/v1/debates/{published.id}/clip.m4a?start=1&end=2")
    assert resp.status == 404 and "missing" in (await resp.json(content_type=None))["detail"]
    assert not list((settings.media_root / "clips").rglob("*.m4a"))

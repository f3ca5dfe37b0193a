"""A live sitting started from a page: the AN portal's ``direct.<uid>``, or any page yt-dlp reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from robian_media.app import create_app
from robian_media.settings import Settings
from tests.ingest.conftest import AUTH, wait_job
from tests.ingest.origin import LIVE_PORTAL_UID, PORTAL_UID, Origin
from tests.live.helpers import rung_paths, start_live, stop_live, wait_playlist, wait_stream
from tests.live.source import LiveSourcePublisher

LIVE_PLAYLIST = "/files/live/playlist.m3u8"


def page(media: Path, name: str, body: str) -> str:
    """An HTML page the origin serves at /files/pages/{name}."""
    path = media / "pages" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"<!DOCTYPE html><html><head><title>Chaîne test</title></head><body>{body}</body></html>")
    return f"/files/pages/{name}"


async def debate(client: TestClient[Any, Any], debate_id: str) -> dict[str, Any]:
    return dict(await (await client.get(f"/api/v1/debates/{debate_id}")).json())


async def recorded_then_stopped(client: TestClient[Any, Any], started: dict[str, Any]) -> None:
    """The sitting goes live and advances; stopped, it is published."""
    await wait_stream(client, started["debate_id"])
    rungs = await rung_paths(client, started["debate_id"])
    await wait_playlist(client, rungs[0], lambda body: body.count("#EXTINF") >= 1)
    await stop_live(client, started["debate_id"])
    job = await wait_job(client, started["job_id"])
    assert job["status"] == "succeeded", job


async def refused(client: TestClient[Any, Any], source_url: str) -> dict[str, Any]:
    response = await client.post("/api/v1/live", json={"source_url": source_url}, headers=AUTH)
    assert response.status == 422, await response.text()
    assert response.content_type == "application/problem+json"
    listed = await (await client.get("/api/v1/debates", params={"status": "live"})).json()
    assert source_url not in [debate["source_url"] for debate in listed["items"]]  # nothing was started
    return dict(await response.json())


async def test_an_portal_direct_page_records_its_live_playlist(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    started = await start_live(live_client, origin.live_portal_url + ".questions-au-gouvernement")
    # the page is the sitting's source; its data.nvs names the live playlist, the title and the date
    detail = await debate(live_client, started["debate_id"])
    assert detail["source_url"] == origin.live_portal_url
    assert detail["title"] == "Questions au Gouvernement"
    assert detail["starts_at"].startswith("2026-03-11")
    # the same page again while it is live: the same sitting
    again = await live_client.post("/api/v1/live", json={"source_url": origin.live_portal_url}, headers=AUTH)
    assert again.status == 200 and (await again.json())["job_id"] == started["job_id"]
    await recorded_then_stopped(live_client, started)
    assert 200 in origin.statuses(LIVE_PLAYLIST)
    # data.nvs read at submit time (twice: the same page was submitted twice), then by the worker
    assert origin.statuses(f"/Datas/an/{LIVE_PORTAL_UID}/content/data.nvs") == [200] * 3


async def test_a_playlist_behind_a_redirect_is_taken_without_yt_dlp(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    url = origin.url(f"/redirect?to={LIVE_PLAYLIST}")  # no .m3u8 in the URL: its body says #EXTM3U
    started = await start_live(live_client, url)
    await recorded_then_stopped(live_client, started)
    assert (await debate(live_client, started["debate_id"]))["source_url"] == url


def video(src: str) -> str:
    return f'<video controls><source src="{src}" type="application/x-mpegURL"></video>'


async def test_a_page_embedding_an_hls_stream_is_read_with_yt_dlp_then_again_by_the_worker(
    aiohttp_client: Callable[..., Any],
    live_settings: Callable[..., Settings],
    origin: Origin,
    publisher: LiveSourcePublisher,
    media: Path,
) -> None:
    # yt-dlp's generic extractor finds HTML5 <video>/<source> media (its "html5" extractor)
    url = origin.url(page(media, "direct.html", video(LIVE_PLAYLIST)))
    api = await aiohttp_client(create_app(live_settings(workers=0)))
    started = await start_live(api, url)
    detail = await debate(api, started["debate_id"])
    assert detail["source_url"] == url
    assert detail["title"].startswith("Chaîne test")  # the page's title

    # before a worker takes the job up, the page moves its stream: the worker follows the page
    moved = media / "live-moved"
    if not moved.is_symlink():
        moved.symlink_to(media / "live", target_is_directory=True)
    page(media, "direct.html", video("/files/live-moved/playlist.m3u8"))
    worker = await aiohttp_client(create_app(live_settings()))
    await recorded_then_stopped(worker, started)
    assert 200 in origin.statuses("/files/live-moved/playlist.m3u8")


async def test_pages_without_a_live_stream_are_refused_at_once(
    aiohttp_client: Callable[..., Any], live_settings: Callable[..., Settings], origin: Origin, media: Path
) -> None:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_app(live_settings(ingest_allowlist=["127.0.0.1"]))
    )
    # a portal page whose data.nvs says the video is not live
    problem = await refused(client, origin.url(f"/direct.{PORTAL_UID}"))
    assert "no live stream now" in problem["detail"]
    assert problem["errors"][0]["type"] == "no_live_stream"
    # a page with nothing playable in it
    problem = await refused(client, origin.url(page(media, "none.html", "<p>Pas de direct aujourd'hui.</p>")))
    assert "no live stream now" in problem["detail"]
    # a page showing a recording (a plain file, not HLS)
    problem = await refused(
        client, origin.url(page(media, "vod.html", '<video src="/files/speech.m4a"></video>'))
    )
    assert "no live stream now" in problem["detail"] and "not HLS" in problem["detail"], problem
    # a page whose stream is on a host the fetch policy refuses (localhost is not in the allowlist)
    elsewhere = f"http://localhost:{origin.port}{LIVE_PLAYLIST}"
    problem = await refused(
        client, origin.url(page(media, "elsewhere.html", f'<video src="{elsewhere}"></video>'))
    )
    assert "localhost" in problem["detail"] and problem["errors"][0]["type"] == "source_refused", problem
    # a redirect to a refused host
    problem = await refused(client, origin.url(f"/redirect?to={elsewhere}"))
    assert problem["errors"][0]["type"] == "source_refused", problem

"""A listener opens the page of `make run` in Chromium: the demo sitting plays, a speaker is one key
press away, search finds an intervention, a live sitting says who is speaking now, an ingest in
progress shows how far it got."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import webvtt

from packager.synth import make_sitting
from robian_media.events.bus import EventBus
from robian_media.events.factory import open_event_bus
from robian_media.events.vocabulary import publish_job_progress, publish_live_speaker
from robian_media.settings import Settings
from tests.e2e.conftest import Driver
from tests.services import DemoServer

SPEAKER = {"id": "PA605036", "name": "Élisabeth <Borne> & Cie", "group": "EPR"}


async def test_the_demo_sitting_plays_with_its_speakers(run_page: Any, demo: DemoServer) -> None:
    result = await (await run_page("play")).result()
    assert result["listed"] >= 1  # the page opens on the newest debates
    assert result["second"] > result["first"] > 1.0, result  # time advances: it is playing
    assert result["title"].startswith("Séance de démonstration")
    assert result["chapters"] == 8  # 4 speakers, twice
    assert result["current"] == result["now_speaking"] == "Yaël Braun-Pivet (EPR)"
    assert result["download"] == f"{demo.base_url}/api/v1/debates/{demo.debate_id}/download"
    assert result["live_badge"] is False
    assert result["overflow"] <= 0 and result["unlabelled"] == [], result


async def test_jumping_to_the_third_speaker_lands_on_its_start(run_page: Any) -> None:
    result = await (await run_page("jump")).result()
    assert abs(result["landed"] - result["start"]) < 0.5, result
    assert result["after"] > result["start"]  # and it plays on from there
    assert result["current"] == "2"
    assert result["now_speaking"] == result["third_speaker"] == "Jean-Luc Mélenchon (LFI)"


async def test_search_finds_a_speaker_and_plays_from_their_intervention(run_page: Any) -> None:
    result = await (await run_page("search")).result()
    assert any("Jean-Luc Mélenchon (LFI)" in text for text in result["texts"]), result["texts"]
    assert "&t=18" in result["url"] and result["time"] >= 18.0, result  # a link to that moment
    assert result["now_speaking"] == "Jean-Luc Mélenchon (LFI)", result


async def published_until_shown(
    demo: DemoServer, driver: Driver, publish: Callable[[EventBus], Awaitable[None]]
) -> dict[str, Any]:
    """Once the page follows its events, another node publishes (every second, in case the first one
    raced the subscription) until the page has shown it."""
    assert (await driver.next_message()).get("ready"), "the page did not follow the sitting's events"
    settings = Settings(
        _env_file=None,
        redis_url=demo.env["ROBIAN_REDIS_URL"],
        redis_prefix=demo.env["ROBIAN_REDIS_PREFIX"],
        data_dir=demo.env["ROBIAN_DATA_DIR"],
    )
    async with open_event_bus(settings, listen=False) as bus:

        async def repeat() -> None:
            while True:
                await publish(bus)
                await asyncio.sleep(1.0)

        publisher = asyncio.create_task(repeat())
        try:
            return await driver.result()
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher


async def test_now_speaking_follows_live_speaker_events(run_page: Any, demo: DemoServer) -> None:
    async def speaker(bus: EventBus) -> None:
        # what POST /api/v1/live/{id}/speaker publishes
        await publish_live_speaker(bus, demo.debate_id, SPEAKER, at=42.0)
        await bus.publish(f"debate:{demo.debate_id}", "live.speaker", {"speaker": SPEAKER, "at": 42.0})

    result = await published_until_shown(demo, await run_page("live"), speaker)
    assert result["live_badge"] is True
    assert result["now_speaking"] == "Élisabeth <Borne> & Cie (EPR)"  # shown as text, never as markup
    assert result["aria_live"] == "polite"


async def test_an_ingest_in_progress_shows_its_stage_and_progress(run_page: Any, demo: DemoServer) -> None:
    # the page as the demo's "listen" URL opens it while its job runs
    job_id = demo.printed("job:").rsplit("/", 1)[1]

    async def progress(bus: EventBus) -> None:
        await publish_job_progress(bus, job_id, "packaging", 0.42)

    result = await published_until_shown(demo, await run_page("job", job_id), progress)
    assert result["stage"] == "encodage — 42\u00a0%"
    assert result["progress"] == "42"


async def test_a_debate_opened_while_packaging_plays_then_shows_the_published_version(
    run_page: Any, demo: DemoServer, tmp_path: Path
) -> None:
    # a second sitting, ingested through the API like any source; the page is opened at once
    inbox = Path(demo.env["ROBIAN_DATA_DIR"]) / "inbox" / tmp_path.name
    sitting = await asyncio.to_thread(make_sitting, inbox, "ffmpeg", 3)
    token = (Path(demo.env["ROBIAN_DATA_DIR"]) / "admin-token").read_text().strip()
    body = {
        "source_url": str(sitting.path),
        "title": "Séance en cours de préparation",
        "chapters": [chapter.model_dump() for chapter in sitting.chapters],
    }
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.post(f"{demo.base_url}/api/v1/ingest", json=body) as resp,
    ):
        assert resp.status == 202, await resp.text()
        accepted = await resp.json()
    driver = await run_page("ingest", accepted["job_id"], debate_id=accepted["debate_id"])
    result = await driver.result(timeout=120)
    assert result["time"] > 1.0, result  # it plays, without a reload
    assert result["chapters"] == 12 and result["job_hidden"] and result["message"] == ""
    # what the listener saw meanwhile (packaging may be done before the page is up)
    assert set(result["stages"]) <= {"téléchargement de la source", "analyse", "encodage", "publication"}
    print(
        f"stages shown while packaging: {result['stages']}; played before publish: "
        f"{result['played_while_packaging']}"
    )


async def test_a_shared_moment_plays_and_stops_and_the_page_shares_downloads_subscribes(
    run_page: Any, demo: DemoServer
) -> None:
    result = await (await run_page("share")).result()
    # /?debate=&t=10&end=13 played that range and stopped at its end (checked every 50 ms)
    assert 13.0 <= result["stopped"] < 13.4, result
    assert result["still_stopped"] == result["stopped"]
    assert result["range_status"] == "Fin de l’extrait partagé (0:13)."
    # the share form: from now to the end of this intervention (the 2nd: 9.216–18.304 s)
    assert result["defaults"]["start"] == "0:13" and result["defaults"]["end"] == "0:19", result["defaults"]
    assert result["defaults"]["url"] == f"{demo.base_url}/?debate={demo.debate_id}&t=13&end=19"
    assert result["refused"] == {"status": "La fin doit venir après le début.", "url": "", "invalid": "true"}
    assert result["edited"] == result["copied"] == f"{demo.base_url}/?debate={demo.debate_id}&t=12&end=20"
    # this intervention as its own file, and the feeds to subscribe to
    assert result["clip_href"] == f"/api/v1/debates/{demo.debate_id}/chapters/2/clip.m4a"
    assert (result["clip_status"], result["clip_type"]) == (200, "audio/mp4")
    assert result["subscribe_body"] == "/api/v1/feeds/debates.rss?body=S%C3%A9ance%20publique"
    assert result["subscribe_speaker"] == "/api/v1/feeds/speakers/PA1008.rss"
    assert result["subscribe_speaker_text"] == "Interventions de Marine Le Pen (RN)"
    assert result["axe"] == [], result["axe"]  # WCAG 2.1 A/AA rules of axe-core


async def test_captions_show_the_words_said_at_a_seek_point_and_search_finds_them(
    run_page: Any, demo: DemoServer
) -> None:
    result = await (await run_page("words")).result(timeout=150)
    # hls.js lists the subtitle rendition of the master
    assert result["subtitle_tracks"] == "Français (compte rendu)|fr|subs", result
    caption = result["caption"]
    assert (caption["aria_live"], caption["pressed"]) == ("polite", "true")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{demo.base_url}/hls/{demo.debate_id}/master.m3u8") as master,
    ):
        version = next(
            line.split("/")[0] for line in (await master.text()).splitlines() if line.startswith("v")
        )
        async with http.get(f"{demo.base_url}/hls/{demo.debate_id}/{version}/transcript.vtt") as vtt:
            cues = webvtt.from_string(await vtt.text()).captions
    # the page shows the cue said at that second (or the one just before, within a frame of time)
    said = [
        (c.voice, " ".join(c.text.split("\n")))
        for c in cues
        if c.start_time.in_milliseconds() / 1000 - 0.3
        <= caption["time"]
        < c.end_time.in_milliseconds() / 1000 + 0.3
    ]
    assert (caption["speaker"], caption["text"]) in said, (caption, said)
    assert caption["speaker"] == "Jean-Luc Mélenchon (LFI)"
    assert result["current_paragraph"].endswith("Jean-Luc Mélenchon (LFI)")
    assert result["paragraphs"] == 8
    assert result["speed"] == 1.5 and result["captions_still_on"] == "true"  # remembered
    assert result["passages"] >= 1 and "&t=" in result["passage_href"]
    said = float(result["passage_href"].split("&t=")[1])
    assert said < result["passage_time"] < said + 5

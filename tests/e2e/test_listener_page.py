"""A listener opens the page of `make run` in Chromium: the demo sitting plays, a speaker is one key
press away, and a live sitting says who is speaking now."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from robian_media.events.factory import open_event_bus
from robian_media.events.publish import publish_live_speaker
from robian_media.settings import Settings
from tests.services import DemoServer

SPEAKER = {"id": "PA605036", "name": "Élisabeth <Borne> & Cie", "group": "EPR"}


async def test_the_demo_sitting_plays_with_its_speakers(run_page: Any, demo: DemoServer) -> None:
    result = await (await run_page("play")).result()
    assert result["second"] > result["first"] > 1.0, result  # time advances: it is playing
    assert result["title"].startswith("Séance de démonstration")
    assert result["chapters"] == 8  # 4 speakers, twice
    assert result["current"] == result["now_speaking"] == "Yaël Braun-Pivet (EPR)"
    assert result["download"] == f"{demo.base_url}/api/v1/debates/{demo.debate_id}/download"
    assert result["live_badge"] is False


async def test_jumping_to_the_third_speaker_lands_on_its_start(run_page: Any) -> None:
    result = await (await run_page("jump")).result()
    assert abs(result["landed"] - result["start"]) < 0.5, result
    assert result["after"] > result["start"]  # and it plays on from there
    assert result["current"] == "2"
    assert result["now_speaking"] == result["third_speaker"] == "Jean-Luc Mélenchon (LFI)"


async def test_now_speaking_follows_live_speaker_events(run_page: Any, demo: DemoServer) -> None:
    settings = Settings(
        _env_file=None,
        redis_url=demo.env["ROBIAN_REDIS_URL"],
        redis_prefix=demo.env["ROBIAN_REDIS_PREFIX"],
        data_dir=demo.env["ROBIAN_DATA_DIR"],
    )
    driver = await run_page("live")
    assert (await driver.next_message()).get("ready"), "the page did not follow the sitting's events"
    async with open_event_bus(settings, listen=False) as bus:
        # another node publishes, as POST /api/v1/live/{id}/speaker does, until the page has shown it
        async def publish() -> None:
            while True:
                await publish_live_speaker(bus, demo.debate_id, SPEAKER, at=42.0)
                await bus.publish(
                    f"debate:{demo.debate_id}", "live.speaker", {"speaker": SPEAKER, "at": 42.0}
                )
                await asyncio.sleep(1.0)

        publisher = asyncio.create_task(publish())
        try:
            result = await driver.result()
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
    assert result["live_badge"] is True
    assert result["now_speaking"] == "Élisabeth <Borne> & Cie (EPR)"  # shown as text, never as markup
    assert result["aria_live"] == "polite"

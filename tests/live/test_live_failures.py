"""A live source that dies and comes back: a marked gap, not a broken stream; an API node restarted
under a live sitting: the worker that owns the job goes on."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from packager.process import stop_process
from robian_media.app import create_app
from robian_media.settings import Settings
from tests.ingest.conftest import AUTH, wait_job
from tests.ingest.origin import Origin
from tests.ingest.test_worker_kill import start_worker
from tests.live.helpers import rung_paths, start_live, stop_live, text, wait_playlist, wait_stream
from tests.live.source import LiveSourcePublisher


def dates(body: str) -> list[datetime]:
    return [datetime.fromisoformat(d.replace("Z", "+00:00")) for d in re.findall(r"DATE-TIME:(\S+)", body)]


def resumed_after_gap(body: str) -> bool:
    return "#EXT-X-GAP" in body and body.rsplit("#EXT-X-GAP", 1)[1].count("seg_") >= 2


async def test_source_killed_for_10_s_and_back_leaves_a_marked_gap(
    aiohttp_client: Callable[..., Any],
    live_settings: Callable[..., Settings],
    origin: Origin,
    publisher: LiveSourcePublisher,
) -> None:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_app(live_settings(live_stall_seconds=3.0))
    )
    started = await start_live(client, origin.url("/files/live/playlist.m3u8"))
    debate_id = started["debate_id"]
    await wait_stream(client, debate_id)
    rungs = await rung_paths(client, debate_id)
    await wait_playlist(client, rungs[0], lambda body: body.count("#EXTINF") >= 2)

    await publisher.kill()
    await asyncio.sleep(10)
    await publisher.restart()

    for rung in rungs:
        body = await wait_playlist(client, rung, resumed_after_gap, timeout=40)
        before, after = body.split("#EXT-X-GAP", 1)
        assert "#EXT-X-DISCONTINUITY" in after  # the new source run starts afresh
        # the dates jump over the outage: the last segment before it and the first one after
        outage = (dates(after.split("#EXT-X-DISCONTINUITY", 1)[1])[0] - dates(before)[-1]).total_seconds()
        assert outage > 8
        assert 'URI="gap_' not in body  # gap segments are not parts
    assert (await client.get(f"/api/v1/debates/{debate_id}/stream")).status == 200

    await stop_live(client, debate_id)
    job = await wait_job(client, started["job_id"])
    assert job["status"] == "succeeded", job
    vod = await text(client, rungs[0])
    assert "#EXT-X-GAP" in vod and vod.rstrip().endswith("#EXT-X-ENDLIST")


async def test_the_live_job_outlives_its_api_node_and_its_worker(
    aiohttp_client: Callable[..., Any],
    live_settings: Callable[..., Settings],
    origin: Origin,
    publisher: LiveSourcePublisher,
    tmp_path: Path,
) -> None:
    settings = live_settings(workers=0)
    first_worker = await start_worker(settings, tmp_path / "worker-a.log")
    second_worker = None
    try:
        first = await aiohttp_client(create_app(settings))
        started = await start_live(first, origin.url("/files/live/playlist.m3u8"))
        debate_id = started["debate_id"]
        await wait_stream(first, debate_id)
        rung = (await rung_paths(first, debate_id))[0]
        seen = (await text(first, rung)).count("#EXTINF")
        await first.close()  # the API node goes away (a deploy, a crash): the worker records on

        second = await aiohttp_client(create_app(settings))
        before = await wait_playlist(second, rung, lambda body: body.count("#EXTINF") >= seen + 2)
        first_segment = (await second.get(rung.rsplit("/", 1)[0] + "/seg_0.m4s")).read()

        os.killpg(first_worker.pid, signal.SIGKILL)  # the worker dies too
        await first_worker.wait()
        second_worker = await start_worker(settings, tmp_path / "worker-b.log")
        # once the dead worker is noticed, the other one resumes the same recording after a marked gap
        after = await wait_playlist(second, rung, resumed_after_gap, timeout=60)
        assert after.startswith(before.split("#EXT-X-PART", 1)[0][:200])
        assert (await second.get(rung.rsplit("/", 1)[0] + "/seg_0.m4s")).status == 200
        assert await (await second.get(rung.rsplit("/", 1)[0] + "/seg_0.m4s")).read() == await first_segment

        await stop_live(second, debate_id)
        job = await wait_job(second, started["job_id"])
        assert job["status"] == "succeeded", (job, (tmp_path / "worker-b.log").read_text())
        vod = await text(second, rung)  # the same version, now VOD: the whole sitting, gap marked
        assert vod.rstrip().endswith("#EXT-X-ENDLIST") and "#EXT-X-GAP" in vod and "seg_0.m4s" in vod
    finally:
        for worker in (first_worker, second_worker):
            if worker is not None:
                await stop_process(worker, group=True)


async def test_cancelling_a_live_job_withdraws_its_stream(
    live_client: TestClient[Any, Any], origin: Origin, publisher: LiveSourcePublisher
) -> None:
    started = await start_live(live_client, origin.url("/files/live/playlist.m3u8"))
    debate_id = started["debate_id"]
    await wait_stream(live_client, debate_id)
    response = await live_client.delete(f"/api/v1/jobs/{started['job_id']}", headers=AUTH)
    assert response.status == 200, await response.text()
    job = await wait_job(live_client, started["job_id"])
    assert job["status"] == "cancelled"
    async with asyncio.timeout(30):
        while (await live_client.get(f"/hls/{debate_id}/master.m3u8")).status != 404:
            await asyncio.sleep(0.2)
        while (detail := await (await live_client.get(f"/api/v1/debates/{debate_id}")).json())[
            "status"
        ] == "live":
            await asyncio.sleep(0.2)
    assert detail["status"] == "cancelled" and detail["stream"] is None
    assert (await live_client.get(f"/api/v1/debates/{debate_id}/stream")).status == 404

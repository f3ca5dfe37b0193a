"""The bus as a publisher or an in-process consumer sees it: in memory, and through real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from robian_media.events.bus import EventBus
from robian_media.events.event import parse_event_id
from robian_media.events.factory import open_event_bus
from robian_media.events.hub import SlowConsumer
from robian_media.events.vocabulary import publish_job_progress
from robian_media.settings import Settings


@pytest.fixture(params=["memory", "redis"])
def bus_settings(request: Any, make_settings: Callable[..., Settings]) -> Settings:
    if request.param == "memory":
        return make_settings(redis_url=None)
    return make_settings()


async def test_published_events_reach_subscribers_of_their_channel_only(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        with bus.subscribe(["jobs"]) as jobs, bus.subscribe(["debates"]) as debates:
            sent = await bus.publish("jobs", "job.succeeded", {"job_id": "j1"})
            got = await asyncio.wait_for(jobs.get(), 5)
            assert got == sent
            assert got.as_json().keys() == {"id", "channel", "type", "ts", "data"}
            assert got.ts.endswith("Z") and got.data == {"job_id": "j1"}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(debates.get(), 0.2)


async def test_one_id_orders_events_of_every_channel(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        events = [
            await bus.publish(channel, "t", {"n": n}) for n, channel in enumerate(["jobs", "debates"] * 20)
        ]
        keys = [parse_event_id(e.id) for e in events]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)


async def test_replay_since_an_id_returns_exactly_what_followed(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        first = await bus.publish("jobs", "t", {"n": 0})
        later = [
            await bus.publish(ch, "t", {"n": n}) for n, ch in enumerate(["jobs", "system", "debates"] * 3, 1)
        ]
        replay = await bus.replay(["jobs", "debates"], first.id)
        assert replay.complete
        assert [e.id for e in replay.events] == [e.id for e in later if e.channel != "system"]
        assert (await bus.replay(["jobs"], later[-1].id)).events == []
        with pytest.raises(ValueError, match="not an event id"):
            await bus.replay(["jobs"], "yesterday")


async def test_replay_says_when_the_buffer_forgot_events(make_settings: Callable[..., Settings]) -> None:
    for settings in (
        make_settings(redis_url=None, events_replay_len=10),
        make_settings(events_replay_len=10),
    ):
        async with open_event_bus(settings) as bus:
            first = await bus.publish("jobs", "t", {"n": 0})
            for n in range(400):  # Redis trims whole stream nodes (100 entries): go well past them
                await bus.publish("jobs", "t", {"n": n})
            replay = await bus.replay(["jobs"], first.id)
            assert not replay.complete
            assert 10 <= len(replay.events) < 400
            assert (await bus.replay(["jobs"], replay.events[0].id)).complete


async def test_a_subscriber_that_stops_reading_is_dropped_not_grown(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        with bus.subscribe(["jobs"], maxsize=5) as lazy, bus.subscribe(["jobs"]) as keen:
            sent = [await bus.publish("jobs", "t", {"n": n}) for n in range(20)]
            received = [await asyncio.wait_for(keen.get(), 5) for _ in sent]
            assert received == sent
            kept = [await lazy.get() for _ in range(5)]
            assert kept == sent[:5]
            with pytest.raises(SlowConsumer):
                await lazy.get()
            # it resumes by id
            assert (await bus.replay(["jobs"], kept[-1].id)).events == sent[5:]


async def test_closing_the_bus_ends_subscriptions(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        subscription = bus.subscribe(["jobs"])
        waiting = asyncio.ensure_future(anext(aiter(subscription), None))
        await asyncio.sleep(0.05)
    assert await asyncio.wait_for(waiting, 5) is None


async def test_publish_rejects_unknown_channels_and_non_json_data(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        with pytest.raises(ValueError, match="unknown channel"):
            await bus.publish("everything", "t", {})
        with pytest.raises(ValueError, match="not JSON"):
            await bus.publish("jobs", "t", {"when": object()})


async def test_channel_ids_are_canonical(bus_settings: Settings) -> None:
    async with open_event_bus(bus_settings) as bus:
        with bus.subscribe(["job:6F1C0C1E-4B8A-4C43-9D59-1B2A3C4D5E6F"]) as subscription:
            await publish_job_progress(bus, "6f1c0c1e4b8a4c439d591b2a3c4d5e6f", "packaging", 0.5)
            event = await asyncio.wait_for(subscription.get(), 5)
            assert event.channel == "job:6f1c0c1e-4b8a-4c43-9d59-1b2a3c4d5e6f"
            assert event.data == {
                "job_id": "6f1c0c1e4b8a4c439d591b2a3c4d5e6f",
                "stage": "packaging",
                "progress": 0.5,
            }


async def test_a_worker_publishes_through_redis_to_an_api_process(
    make_settings: Callable[..., Settings], redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings()
    api_registry = CollectorRegistry()
    async with (
        open_event_bus(settings, registry=api_registry) as api,
        open_event_bus(settings, listen=False) as worker,
    ):
        with api.subscribe(["jobs"]) as subscription:
            await asyncio.sleep(0.1)  # the API's reader is blocked on XREAD
            sent = await worker.publish(
                "jobs", "job.progress", {"job_id": "j", "stage": "fetching", "progress": 0.1}
            )
            assert await asyncio.wait_for(subscription.get(), 5) == sent
    assert api_registry.get_sample_value("robian_events_delivered_total", {"kind": "queue"}) == 1
    # the buffers live under the deployment's prefix, bounded and expiring
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.ttl(f"{redis_prefix}events:ch:jobs") > 0
        assert await redis.xlen(f"{redis_prefix}events:all") == 1
    finally:
        await redis.aclose()


async def test_publishing_with_redis_down_never_raises(make_settings: Callable[..., Settings]) -> None:
    from tests.services import free_port

    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    registry = CollectorRegistry()
    async with open_event_bus(settings, registry=registry) as bus:
        assert isinstance(bus, EventBus)
        with bus.subscribe(["jobs"]) as subscription:
            loop = asyncio.get_running_loop()
            started = loop.time()
            sent = [await bus.publish("jobs", "t", {"n": n}) for n in range(3)]
            assert loop.time() - started < 2
            assert [await asyncio.wait_for(subscription.get(), 1) for _ in sent] == sent
            assert [parse_event_id(e.id) for e in sent] == sorted(parse_event_id(e.id) for e in sent)
            # this node can still resume its own listeners from what it published meanwhile
            replay = await bus.replay(["jobs"], sent[0].id)
            assert replay.events == sent[1:] and not replay.complete
    assert (
        registry.get_sample_value("robian_events_published_total", {"channel": "jobs", "path": "local"}) == 3
    )
    assert registry.get_sample_value("robian_events_redis_up") == 0

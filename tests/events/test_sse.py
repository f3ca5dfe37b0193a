"""GET /api/v1/events as a browser's EventSource uses it: refusals, live events, resuming, heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from robian_media.app import create_app
from robian_media.settings import Settings
from robian_media.web import keys
from tests.events.clients import open_sse

JOB = "6f1c0c1e-4b8a-4c43-9d59-1b2a3c4d5e6f"


@pytest.mark.parametrize(
    ("query", "headers", "fragment"),
    [
        ("channels=everything", {}, "unknown channel 'everything'"),
        # a live sitting's internal channel (several events a second): the server's processes only
        (f"channels=parts:{JOB}", {}, f"unknown channel 'parts:{JOB}'"),
        ("channels=job:", {}, "the id must be"),
        ("channels=job:a%20b", {}, "the id must be"),
        ("channels=,,", {}, "at least one channel"),
        ("", {}, "query.channels"),
        ("channels=" + ",".join(f"job:{n}" for n in range(33)), {}, "at most 32"),
        ("channels=jobs&last_event_id=yesterday", {}, "Cannot resume"),
        ("channels=jobs", {"Last-Event-ID": "12"}, "Cannot resume"),
    ],
)
async def test_bad_requests_are_refused_before_the_stream_starts(
    client: Any, query: str, headers: dict[str, str], fragment: str
) -> None:
    resp = await client.get(f"/api/v1/events?{query}", headers=headers)
    assert resp.status == 422
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert fragment in problem["detail"] + str(problem.get("errors"))


async def test_a_full_node_answers_503_with_retry_after(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(events_max_listeners=1)))
    first = await open_sse(client.session, client.make_url("/api/v1/events?channels=jobs"))
    resp = await client.get("/api/v1/events?channels=jobs")
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    assert (await resp.json())["title"] == "Service unavailable"
    first.close()


@pytest.mark.parametrize("redis", [True, False], ids=["redis", "memory"])
async def test_events_stream_live_and_resume_after_the_last_id(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis: bool
) -> None:
    settings = make_settings() if redis else make_settings(redis_url=None)
    client = await aiohttp_client(create_app(settings))
    bus = client.app[keys.EVENT_BUS]
    url = client.make_url(f"/api/v1/events?channels=jobs,job:{JOB.upper()}")
    stream = await open_sse(client.session, url)
    await asyncio.sleep(0.05)
    sent = await bus.publish(
        f"job:{JOB}", "job.progress", {"job_id": JOB, "stage": "fetching", "progress": 0.1}
    )
    await bus.publish("debates", "debate.published", {"debate_id": "x"})  # not followed
    message = await stream.next()
    assert (message.id, message.event) == (sent.id, "job.progress")
    assert message.json == sent.as_json()
    stream.close()

    missed = [
        await bus.publish(channel, "t", {"n": n})
        for n, channel in enumerate(["jobs", "system", f"job:{JOB}"] * 3)
    ]
    expected = [e for e in missed if e.channel != "system"]
    # Last-Event-ID header (what EventSource sends on reconnect)
    again = await open_sse(client.session, url, last_event_id=sent.id)
    assert [m.id for m in await again.events(len(expected))] == [e.id for e in expected]
    live = await bus.publish("jobs", "t", {"n": "live"})
    assert (await again.next()).id == live.id
    again.close()
    # or the query parameter
    by_query = await open_sse(
        client.session, client.make_url(f"/api/v1/events?channels=jobs&last_event_id={sent.id}")
    )
    assert [m.id for m in await by_query.events(4)] == [e.id for e in expected if e.channel == "jobs"] + [
        live.id
    ]
    by_query.close()


async def test_resuming_while_events_flow_loses_and_repeats_nothing(client: Any) -> None:
    """Subscribe, replay, then live: the events published during the replay come exactly once."""
    bus = client.app[keys.EVENT_BUS]
    url = client.make_url("/api/v1/events?channels=jobs,debates")
    total = 300
    stop_at = 100

    async def publish_all() -> None:
        for n in range(total):
            await bus.publish("jobs" if n % 2 else "debates", "t", {"n": n})
            if n % 10 == 0:
                await asyncio.sleep(0)

    stream = await open_sse(client.session, url)
    await asyncio.sleep(0.05)
    publisher = asyncio.create_task(publish_all())
    first = await stream.events(stop_at)
    stream.close()
    resumed = await open_sse(client.session, url, last_event_id=first[-1].id)
    rest = await resumed.events(total - stop_at)
    await publisher
    numbers = [m.json["data"]["n"] for m in first + rest]
    assert numbers == list(range(total))
    resumed.close()


async def test_a_resume_older_than_the_buffer_is_flagged(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(redis_url=None, events_replay_len=10)))
    bus = client.app[keys.EVENT_BUS]
    first = await bus.publish("jobs", "t", {})
    for n in range(30):
        await bus.publish("jobs", "t", {"n": n})
    stream = await open_sse(
        client.session, client.make_url("/api/v1/events?channels=jobs"), last_event_id=first.id
    )
    notice = await stream.next()
    assert notice.event == "replay.incomplete" and notice.id is None
    assert notice.json["since"] == first.id
    assert [m.json["data"]["n"] for m in await stream.events(10)] == list(range(20, 30))
    stream.close()


async def test_a_comment_heartbeat_keeps_quiet_streams_alive(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(events_heartbeat_seconds=0.2)))
    stream = await open_sse(client.session, client.make_url("/api/v1/events?channels=system"))
    with pytest.raises(TimeoutError):
        await stream.next(timeout=0.7)
    assert stream.parser.comments.count("ping") >= 2
    stream.close()


async def test_the_route_is_documented_as_an_event_stream(client: Any) -> None:
    spec = await (await client.get("/api/docs/swagger.json")).json()
    operation = spec["paths"]["/api/v1/events"]["get"]
    # a refusal before the stream starts is a problem (RFC 9457)
    assert operation["produces"] == ["text/event-stream", "application/problem+json"]
    assert {p["name"] for p in operation["parameters"]} == {"channels", "last_event_id"}
    assert "/ws" in spec["paths"]

"""``GET /api/v1/events?channels=a,b`` — Server-Sent Events, resumable with ``Last-Event-ID``.

Every check (channels, resume id, listener capacity) happens before the stream starts, so a bad
request gets a problem+json answer, not a broken stream. Then: subscribe, replay what the client
missed, release the live events held meanwhile minus the replayed ones, and stream until the client
leaves, is too slow, or the server shuts down. aiohttp-sse sends a comment heartbeat at least every
``events_heartbeat_seconds`` (≤ 15 s).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from pydantic import BaseModel, Field

from ..web import keys
from ..web.client_address import client_key
from ..web.device_auth import authorize_channels
from ..web.errors import ServiceUnavailable, ValidationFailed
from ..web.listener_queries import Listener as DeviceListener
from ..web.openapi import operation
from .bus import EventBus
from .channels import ChannelError, parse_channels
from .event import Frames, dumps, parse_event_id
from .streams import SseListener, stream_identity

RETRY_AFTER_S = "5"


class EventsQuery(BaseModel):
    channels: str = Field(
        description="comma-separated: debates, jobs, system, job:{id}, debate:{id}, live:{id}"
    )
    last_event_id: str | None = Field(
        None, description="resume after this event id; the Last-Event-ID header takes precedence"
    )


def checked_channels(raw: list[str], limit: int, location: str) -> list[str]:
    try:
        return parse_channels(raw, limit=limit)
    except ChannelError as exc:
        raise ValidationFailed(
            f"Invalid channels: {exc}.",
            errors=[{"location": location, "message": str(exc), "type": "channel"}],
        ) from None


def checked_since(value: str | None, location: str) -> str | None:
    if not value:
        return None
    try:
        parse_event_id(value)
    except ValueError as exc:
        raise ValidationFailed(
            f"Cannot resume: {exc}.", errors=[{"location": location, "message": str(exc), "type": "event_id"}]
        ) from None
    return value.strip()


def check_capacity(bus: EventBus, limit: int) -> None:
    if len(bus.hub) >= limit:
        raise ServiceUnavailable(
            "This server has as many event listeners as it accepts; retry shortly.",
            headers={"Retry-After": RETRY_AFTER_S},
        )


@operation(
    summary="Live events as Server-Sent Events (resumable with Last-Event-ID)",
    tags=["events"],
    query=EventsQuery,
    produces=["text/event-stream"],
    responses={503: "This node has as many listeners as it accepts"},
)
async def events_sse(request: web.Request, query: EventsQuery) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    bus = request.app[keys.EVENT_BUS]
    channels = checked_channels(query.channels.split(","), settings.events_max_channels, "query.channels")
    identity = await authorize_channels(request, channels)
    header = request.headers.get("Last-Event-ID")
    where = "header.Last-Event-ID" if header else "query.last_event_id"
    since = checked_since(header or query.last_event_id, where)
    check_capacity(bus, settings.events_max_listeners)
    with request.app[keys.STREAM_SLOTS].hold(client_key(request)):
        return await _stream(request, bus, channels, since, identity)


async def _stream(
    request: web.Request,
    bus: EventBus,
    channels: list[str],
    since: str | None,
    identity: DeviceListener | None,
) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    async with sse_response(request, ping_interval=settings.events_heartbeat_seconds) as resp:
        transport = request.transport
        if transport is None:  # the client left while headers were sent
            return resp
        listener = SseListener(
            resp,
            transport,
            max_buffer_bytes=settings.events_listener_buffer_bytes,
            max_pending=settings.events_listener_queue,
            **stream_identity(identity),
        )
        listener.channels = frozenset(channels)
        if since:
            listener.hold()
        bus.hub.add(listener)
        try:
            if since:
                await _send_replay(bus, resp, listener, channels, since)
            await resp.wait()
        except ConnectionError:
            pass  # the client left, or was cut off as too slow, while the replay was written
        finally:
            bus.hub.remove(listener)
    return resp


async def _send_replay(
    bus: EventBus, resp: EventSourceResponse, listener: SseListener, channels: list[str], since: str
) -> None:
    replay = await bus.replay(channels, since)
    if not replay.complete:
        detail = "Some events after this id are no longer buffered: fetch the current state, then follow."
        notice = {"since": since, "channels": channels, "detail": detail}
        await resp.send(dumps(notice), event="replay.incomplete")
    for event in replay.events:
        if listener.closed_reason is not None:
            return
        await resp.send(Frames(event).json, id=event.id, event=event.type)
        listener.last_id = event.id
    bus.hub.count_replayed(listener.kind, len(replay.events))
    listener.release({event.id for event in replay.events})

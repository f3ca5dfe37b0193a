"""``GET /ws`` — live events over a WebSocket (docs/architecture.md §5).

Client → server: ``{"op":"subscribe","channels":[…],"since"?: id}``, ``{"op":"unsubscribe","channels":[…]}``,
``{"op":"ping"}``. Server → client: ``{"op":"event", …event}``, ``{"op":"ack","channels":[…]}`` (every
channel the connection follows after the operation; a subscribe with ``since`` adds ``"replayed"`` and
``"complete"``), ``{"op":"pong"}``, ``{"op":"error","error": message,"code": code}``.

A bad message gets an error message and the connection stays. Closed: a client too slow to read
(4000, resume with ``since``), one following no channel for ``events_ws_idle_seconds`` (4001), one
sending messages over 16× ``events_ws_max_message_bytes`` (1009, by aiohttp) or more than
``MAX_ERRORS`` bad messages within ``ERROR_WINDOW_S`` (1008), and every one at shutdown (1001).
Dead peers are found by protocol pings every ``events_heartbeat_seconds``.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Annotated, Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from ..settings import Settings
from ..web import keys
from ..web.client_address import client_key
from ..web.device_auth import Listener as DeviceListener
from ..web.device_auth import can_subscribe, listener_from_request
from ..web.errors import UpgradeRequired
from ..web.openapi import operation
from .bus import EventBus
from .channels import ChannelError, parse_channels
from .event import Frames, dumps, parse_event_id
from .sse import check_capacity
from .streams import WS_IDLE, WsListener, stream_identity

MAX_ERRORS = 10
ERROR_WINDOW_S = 10.0
HARD_LIMIT_FACTOR = 16


class Subscribe(BaseModel):
    op: Literal["subscribe"]
    channels: list[str] = Field(max_length=1000)
    since: str | None = None


class Unsubscribe(BaseModel):
    op: Literal["unsubscribe"]
    channels: list[str] = Field(max_length=1000)


class Ping(BaseModel):
    op: Literal["ping"]


ClientMessage = TypeAdapter(Annotated[Subscribe | Unsubscribe | Ping, Field(discriminator="op")])


class ClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@operation(
    summary="Live events over a WebSocket (upgrade; see the module docs for the message protocol)",
    tags=["events"],
    responses={426: "Not a WebSocket upgrade request", 503: "This node has as many listeners as it accepts"},
)
async def events_ws(request: web.Request) -> web.StreamResponse:
    settings = request.app[keys.SETTINGS]
    bus = request.app[keys.EVENT_BUS]
    ws = web.WebSocketResponse(
        heartbeat=settings.events_heartbeat_seconds,
        compress=False,  # events are written pre-encoded, uncompressed, to every listener
        max_msg_size=settings.events_ws_max_message_bytes * HARD_LIMIT_FACTOR,
        timeout=2.0,
    )
    if not ws.can_prepare(request).ok:
        raise UpgradeRequired(
            "This route speaks WebSocket: connect with a WebSocket client (Upgrade: websocket).",
            headers={"Upgrade": "websocket"},
        )
    check_capacity(bus, settings.events_max_listeners)
    # who may follow private owner:{id} channels, decided once from the device token of the upgrade
    # (a revocation ends the stream: streams.py)
    identity = await listener_from_request(request)
    with request.app[keys.STREAM_SLOTS].hold(client_key(request)):
        return await _connected(request, ws, bus, settings, identity)


async def _connected(
    request: web.Request,
    ws: web.WebSocketResponse,
    bus: EventBus,
    settings: Settings,
    identity: DeviceListener | None,
) -> web.WebSocketResponse:
    await ws.prepare(request)
    transport = request.transport
    if transport is None:
        return ws
    listener = WsListener(
        transport,
        max_buffer_bytes=settings.events_listener_buffer_bytes,
        max_pending=settings.events_listener_queue,
        **stream_identity(identity),
    )
    bus.hub.add(listener)
    try:
        await Session(ws, listener, bus, settings, identity).run()
    except ConnectionError:
        pass  # the client left, or was cut off as too slow, while we answered it
    finally:
        bus.hub.remove(listener)
    return ws


class Session:
    """One connection's message loop; processes one client message at a time."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        listener: WsListener,
        bus: EventBus,
        settings: Settings,
        identity: DeviceListener | None = None,
    ):
        self._identity = identity
        self._ws = ws
        self._listener = listener
        self._bus = bus
        self._settings = settings
        self._errors: deque[float] = deque()
        self._idle_since: float | None = time.monotonic()

    async def run(self) -> None:
        ws = self._ws
        while not ws.closed and self._listener.closed_reason is None:
            timeout = None
            if self._idle_since is not None:
                timeout = self._idle_since + self._settings.events_ws_idle_seconds - time.monotonic()
                if timeout <= 0:
                    await ws.close(code=WS_IDLE, message=b"idle: no channel followed")
                    return
            try:
                msg = await ws.receive(timeout=timeout)
            except TimeoutError:
                continue  # the idle deadline is checked at the top
            if msg.type is WSMsgType.TEXT:
                await self._answer(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await self._error(ClientError("binary_not_supported", "send JSON text messages"))
            else:  # close, closing, closed, error: the connection is over
                return
            if len(self._errors) > MAX_ERRORS:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many invalid messages")
                return

    async def _answer(self, text: str) -> None:
        try:
            reply = await self._handle(text)
        except ClientError as exc:
            await self._error(exc)
            return
        if reply is not None:
            await self._ws.send_str(dumps(reply))

    async def _error(self, exc: ClientError) -> None:
        now = time.monotonic()
        self._errors.append(now)
        while self._errors and self._errors[0] < now - ERROR_WINDOW_S:
            self._errors.popleft()
        await self._ws.send_str(dumps({"op": "error", "error": str(exc), "code": exc.code}))

    async def _handle(self, text: str) -> dict[str, Any] | None:
        limit = self._settings.events_ws_max_message_bytes
        if len(text.encode()) > limit:
            raise ClientError("message_too_large", f"messages are at most {limit} bytes")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ClientError("invalid_json", f"not JSON: {exc}") from None
        except RecursionError:
            raise ClientError("invalid_json", "not JSON this server reads: nested too deeply") from None
        try:
            message = ClientMessage.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ClientError(
                "invalid_message",
                f"{where}: {first['msg']}; ops are subscribe, unsubscribe, ping",
            ) from None
        if isinstance(message, Ping):
            return {"op": "pong"}
        if isinstance(message, Subscribe):
            await self._subscribe(message)
            return None
        return self._unsubscribe(message)

    def _channels(self, names: list[str]) -> list[str]:
        try:
            return parse_channels(names, limit=self._settings.events_max_channels)
        except ChannelError as exc:
            raise ClientError("invalid_channels", str(exc)) from None

    async def _subscribe(self, message: Subscribe) -> None:
        names = self._channels(message.channels)
        refused = sorted(c for c in names if not can_subscribe(self._identity, c))
        if refused:
            raise ClientError("forbidden_channels", f"private channels need their owner's token: {refused}")
        following = self._listener.channels | set(names)
        limit = self._settings.events_max_channels
        if len(following) > limit:
            raise ClientError(
                "too_many_channels",
                f"a connection may follow at most {limit} channels; unsubscribe some first",
            )
        if message.since:
            try:
                parse_event_id(message.since)
            except ValueError as exc:
                raise ClientError("invalid_since", str(exc)) from None
            self._listener.hold()
        self._bus.hub.update(self._listener, following)
        self._idle_since = None
        ack: dict[str, Any] = {"op": "ack", "channels": sorted(following)}
        if not message.since:
            await self._ws.send_str(dumps(ack))
            return
        replay = await self._bus.replay(names, message.since)
        ack.update(replayed=len(replay.events), complete=replay.complete)
        await self._ws.send_str(dumps(ack))
        for event in replay.events:
            if self._listener.closed_reason is not None:
                return
            await self._ws.send_str(Frames(event).ws_message)
            self._listener.last_id = event.id
        self._bus.hub.count_replayed(self._listener.kind, len(replay.events))
        self._listener.release({event.id for event in replay.events})

    def _unsubscribe(self, message: Unsubscribe) -> dict[str, Any]:
        following = self._listener.channels - set(self._channels(message.channels))
        self._bus.hub.update(self._listener, following)
        if not following and self._idle_since is None:
            self._idle_since = time.monotonic()
        return {"op": "ack", "channels": sorted(following)}

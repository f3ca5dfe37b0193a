"""Playback positions: write one or a synced offline batch, read the continue-listening list.

Writes are last-writer-wins by the client's ``updated_at`` (see
``listeners/position_queries.py``); each stored
change is announced on the owner's private channel as a ``progress`` event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from ..catalog.models import Debate
from ..events.vocabulary import publish_owner_event
from ..media.urls import media_urls
from ..web import keys
from ..web.device_auth import owner_transaction
from ..web.errors import NotFound, ValidationFailed
from ..web.listener_queries import Listener
from ..web.openapi import operation
from ..web.path_params import uuid_param
from ..web.text_formats import IsoTimestamp
from .listed_debates import debates_by_id
from .owner_pages import PageQuery, TimeKey, next_cursor
from .position_queries import (
    PositionWrite,
    SavedPosition,
    WriteOutcome,
    apply_writes,
    get_position,
    resume_points,
)

MAX_MEDIA_SECONDS = 7 * 86400.0  # longer than any sitting
POSITION_BATCH_MAX = 500
# players report positions rounded independently of the duration
DURATION_TOLERANCE_S = 1.0


class PositionIn(BaseModel):
    position: float = Field(ge=0, le=MAX_MEDIA_SECONDS, allow_inf_nan=False, description="seconds")
    duration: float | None = Field(None, gt=0, le=MAX_MEDIA_SECONDS, allow_inf_nan=False)
    updated_at: IsoTimestamp = Field(description="when the device was at this position (its clock)")

    @model_validator(mode="after")
    def _within_duration(self) -> PositionIn:
        if self.duration is not None and self.position > self.duration + DURATION_TOLERANCE_S:
            raise ValueError("position is past the end (duration)")
        return self


class PositionItem(PositionIn):
    debate_id: UUID


class PositionBatch(BaseModel):
    items: list[PositionItem] = Field(min_length=1, max_length=POSITION_BATCH_MAX)


class PositionBatchResult(BaseModel):
    results: list[WriteOutcome] = Field(description="one per item, in the order sent")


class PositionQuery(PageQuery):
    include_completed: bool = Field(False, description="also list debates listened to the end")


class ResumeItem(BaseModel):
    debate: Debate
    progress: SavedPosition
    completed: bool


class ResumePage(BaseModel):
    items: list[ResumeItem]
    next_cursor: str | None


def _refuse_future(request: web.Request, stamps: list[tuple[str, datetime]]) -> None:
    skew = request.app[keys.SETTINGS].progress_max_clock_skew_seconds
    latest = datetime.now(UTC) + timedelta(seconds=skew)
    errors = [
        {"location": where, "message": f"more than {skew} s in the future", "type": "future_timestamp"}
        for where, at in stamps
        if at > latest
    ]
    if errors:
        raise ValidationFailed("updated_at is in the future: check the device clock.", errors=errors)


async def _write(request: web.Request, listener: Listener, writes: list[PositionWrite]) -> list[WriteOutcome]:
    async with owner_transaction(request, listener) as conn:
        outcomes, changed = await apply_writes(conn, listener.owner_id, listener.device_id, writes)
    bus = request.app[keys.EVENT_BUS]
    if len(changed) == 1:
        await publish_owner_event(bus, listener.owner_id, "progress", changed[0].model_dump(mode="json"))
    elif changed:
        # a synced batch is one event, however many positions it moved (up to 500 events a request, before)
        positions = [saved.model_dump(mode="json") for saved in changed]
        await publish_owner_event(bus, listener.owner_id, "progress.synced", {"positions": positions})
    return outcomes


@operation(
    summary="Save the playback position of a debate (last writer wins by updated_at)",
    tags=["progress"],
    body=PositionIn,
    response=WriteOutcome,
    device=True,
    description=(
        "Last writer wins by the device's `updated_at` (ties: the furthest position). An older write "
        "changes nothing and answers `stale` with the stored position; replaying a write answers "
        "`applied` again and changes nothing. `updated_at` more than ROBIAN_PROGRESS_MAX_CLOCK_SKEW_SECONDS "
        "in the future is refused (422). Each change is published as a `progress` event on "
        "`owner:{owner_id}`."
    ),
)
async def put_position(request: web.Request, *, body: PositionIn, listener: Listener) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")
    _refuse_future(request, [("body.updated_at", body.updated_at)])
    write = PositionWrite(debate_id=debate_id, **body.model_dump())
    (outcome,) = await _write(request, listener, [write])
    if outcome.status == "not_found":
        raise NotFound(f"No debate with id {debate_id}.")
    return web.json_response(text=outcome.model_dump_json())


@operation(
    summary="Sync positions saved offline; stale and replayed writes change nothing",
    tags=["progress"],
    body=PositionBatch,
    response=PositionBatchResult,
    device=True,
    description=(
        f"Up to {POSITION_BATCH_MAX} writes, in any order, applied in one transaction with the same "
        "rules as PUT /api/v1/progress/{debate_id}. Each result compares its write with the final "
        "stored position: `applied`, `stale` (something newer is stored) or `not_found` (no such "
        "debate); sending the same batch again gets the same answer and changes nothing. The changes are "
        'published as one `progress.synced` event `{"positions": [...]}` on `owner:{owner_id}` (one '
        "change alone: a `progress` event)."
    ),
)
async def post_position_batch(
    request: web.Request, *, body: PositionBatch, listener: Listener
) -> web.Response:
    _refuse_future(
        request, [(f"body.items.{i}.updated_at", item.updated_at) for i, item in enumerate(body.items)]
    )
    writes = [PositionWrite.model_validate(item.model_dump()) for item in body.items]
    result = PositionBatchResult(results=await _write(request, listener, writes))
    return web.json_response(text=result.model_dump_json())


@operation(
    summary="Continue listening: saved positions with their debates, most recent first",
    tags=["progress"],
    query=PositionQuery,
    response=ResumePage,
    device=True,
)
async def list_positions(request: web.Request, *, query: PositionQuery, listener: Listener) -> web.Response:
    async with request.app[keys.DB_POOL].acquire() as conn:
        points = await resume_points(
            conn,
            listener.owner_id,
            limit=query.limit + 1,
            after=query.cursor,
            include_completed=query.include_completed,
        )
        shown = points[: query.limit]
        debates = await debates_by_id(conn, (p.saved.debate_id for p in shown), media_urls(request))
    last = TimeKey(shown[-1].saved.updated_at, shown[-1].saved.debate_id) if shown else None
    page = ResumePage(
        items=[
            ResumeItem(debate=debates[p.saved.debate_id], progress=p.saved, completed=p.completed)
            for p in shown
            if p.saved.debate_id in debates
        ],
        next_cursor=next_cursor(len(points) > query.limit, last),
    )
    return web.json_response(text=page.model_dump_json())


@operation(summary="The saved position of one debate", tags=["progress"], response=SavedPosition, device=True)
async def get_debate_position(request: web.Request, *, listener: Listener) -> web.Response:
    debate_id = uuid_param(request, "debate_id", "debate")
    async with request.app[keys.DB_POOL].acquire() as conn:
        saved = await get_position(conn, listener.owner_id, debate_id)
    if saved is None:
        raise NotFound(f"No saved position for debate {debate_id}.")
    return web.json_response(text=saved.model_dump_json())

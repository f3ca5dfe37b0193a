"""Anonymous devices, their revocation, and pairing devices into one account with a short code."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field

from ..catalog.models import UtcDatetime
from ..events.vocabulary import publish_device_revoked, publish_owner_event
from ..web import keys
from ..web.device_auth import (
    PAIRING_CODE_LENGTH,
    new_device_token,
    new_pairing_code,
    normalize_pairing_code,
    owner_channel,
    pairing_code_hash,
    token_hash,
)
from ..web.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from ..web.listener_queries import Listener
from ..web.openapi import operation
from ..web.path_params import uuid_param
from .device_queries import Device, create_device, owner_devices, revoke_device
from .keys import LISTENER_LIMITS
from .owner_merge import lock_owners, merge_owner
from .pairing_queries import claim_code, live_code_owner, store_code


class DeviceRegistered(BaseModel):
    device_id: UUID
    owner_id: UUID
    token: str = Field(description="Bearer token of this device; shown once, stored hashed")
    channel: str = Field(description="the owner's private event channel")


class Account(BaseModel):
    device_id: UUID
    owner_id: UUID
    channel: str = Field(description="the owner's private event channel")
    devices: list[Device]


class PairingCode(BaseModel):
    code: str = Field(description=f"{PAIRING_CODE_LENGTH} characters, single use")
    expires_at: UtcDatetime


class PairingRedeem(BaseModel):
    code: str = Field(min_length=1, max_length=32, description="as shown on the other device")


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)


async def _account(request: web.Request, device_id: UUID, owner_id: UUID) -> Account:
    async with request.app[keys.DB_POOL].acquire() as conn:
        devices = await owner_devices(conn, owner_id)
    return Account(device_id=device_id, owner_id=owner_id, channel=owner_channel(owner_id), devices=devices)


@operation(
    summary="Register an anonymous device → its id and bearer token",
    tags=["devices"],
    response=DeviceRegistered,
    status=201,
    responses={429: "Too many registrations from this address"},
    description=(
        "No account, no personal data: the answer's token (256 random bits, kept only as its sha256) "
        "is the device's Bearer credential for favorites, collections and progress. Keep it; it is "
        "never shown again. `channel` is the owner's private event channel (progress updates)."
    ),
)
async def register_device(request: web.Request) -> web.Response:
    request.app[LISTENER_LIMITS].check_registration(request)
    token = new_device_token()
    async with request.app[keys.DB_POOL].acquire() as conn:
        device = await create_device(conn, token_hash(token))
    registered = DeviceRegistered(
        device_id=device.id, owner_id=device.owner_id, token=token, channel=owner_channel(device.owner_id)
    )
    return _json(registered, status=201)


@operation(
    summary="This device, its account and the account's devices",
    tags=["devices"],
    response=Account,
    device=True,
)
async def show_account(request: web.Request, *, listener: Listener) -> web.Response:
    return _json(await _account(request, listener.device_id, listener.owner_id))


@operation(summary="Revoke this device's token", tags=["devices"], status=204, device=True)
async def revoke_this_device(request: web.Request, *, listener: Listener) -> web.Response:
    async with request.app[keys.DB_POOL].acquire() as conn:
        await revoke_device(conn, listener.device_id, listener.owner_id)
    await publish_device_revoked(request.app[keys.EVENT_BUS], listener.owner_id, listener.device_id)
    return web.Response(status=204)


@operation(
    summary="Revoke another device of this account (a lost phone)", tags=["devices"], status=204, device=True
)
async def revoke_other_device(request: web.Request, *, listener: Listener) -> web.Response:
    device_id = uuid_param(request, "device_id", "device")
    async with request.app[keys.DB_POOL].acquire() as conn:
        if not await revoke_device(conn, device_id, listener.owner_id):
            raise NotFound(f"This account has no device {device_id}.")
    await publish_device_revoked(request.app[keys.EVENT_BUS], listener.owner_id, device_id)
    return web.Response(status=204)


@operation(
    summary="Get a pairing code for another device to join this account",
    tags=["devices"],
    response=PairingCode,
    status=201,
    device=True,
    description=(
        "Device A shows the code; device B sends it to /api/v1/devices/pair/redeem within its "
        "lifetime (ROBIAN_PAIRING_CODE_TTL_SECONDS, 10 min by default). 8 characters without 0/O/1/I/L; "
        "single use; a new code replaces this device's previous one."
    ),
)
async def start_pairing(request: web.Request, *, listener: Listener) -> web.Response:
    ttl_s = request.app[keys.SETTINGS].pairing_code_ttl_seconds
    async with request.app[keys.DB_POOL].acquire() as conn:
        for _ in range(3):  # a collision with a live code is vanishingly rare; draw again
            code = new_pairing_code()
            expires_at = await store_code(
                conn,
                code_hash=pairing_code_hash(code),
                owner_id=listener.owner_id,
                device_id=listener.device_id,
                ttl_s=ttl_s,
            )
            if expires_at is not None:
                return _json(PairingCode(code=code, expires_at=expires_at), status=201)
    raise ServiceUnavailable("Could not draw a free pairing code; try again.")


@operation(
    summary="Join the account of the device that showed this pairing code",
    tags=["devices"],
    body=PairingRedeem,
    response=Account,
    device=True,
    responses={409: "Already in that account", 429: "Too many attempts"},
    description=(
        "Merges this device's account (all its devices, favorites, collections and positions; the "
        "newest position of each debate wins) into the account of the device that showed the code. "
        "Case, spaces and dashes in the code do not matter. A wrong, expired or used code is a 422; "
        "attempts are limited per device and per address (429 with Retry-After)."
    ),
)
async def redeem_pairing(request: web.Request, *, body: PairingRedeem, listener: Listener) -> web.Response:
    request.app[LISTENER_LIMITS].check_pairing(request, listener.device_id)
    code = normalize_pairing_code(body.code)
    invalid = ValidationFailed(
        "This pairing code is not valid: it may be mistyped, expired or already used.",
        errors=[
            {"location": "body.code", "message": "unknown, expired or used code", "type": "pairing_code"}
        ],
    )
    if code is None:
        raise invalid
    absorbed, code_hash = listener.owner_id, pairing_code_hash(code)
    async with request.app[keys.DB_POOL].acquire() as conn, conn.transaction():
        owner_id = await live_code_owner(conn, code_hash)
        if owner_id is None:
            raise invalid
        if owner_id == absorbed:  # the code stays usable by the device it was meant for
            raise Conflict("This device already belongs to that account.")
        # owners first, then the code: every pairing takes its locks in one order (no deadlock
        # when two devices redeem each other's codes at once)
        if not await lock_owners(conn, owner_id, absorbed):
            raise Conflict("One of the accounts was just paired elsewhere; ask for a new code and retry.")
        if await claim_code(conn, code_hash) is None:  # a racing redemption used it first
            raise invalid
        await merge_owner(conn, into=owner_id, absorbed=absorbed)
    await publish_owner_event(
        request.app[keys.EVENT_BUS],
        absorbed,
        "owner.merged",
        {"owner_id": str(owner_id), "channel": owner_channel(owner_id)},
    )
    await publish_owner_event(
        request.app[keys.EVENT_BUS], owner_id, "device.paired", {"device_id": str(listener.device_id)}
    )
    return _json(await _account(request, listener.device_id, owner_id))

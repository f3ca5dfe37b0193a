"""Device tokens and pairing codes, who a request speaks for, and who may hear an owner's channel.

Tokens are 256 random bits, handed out once and stored as their sha256: the lookup is by hash, so
its timing depends on the hash, not on how much of a guessed token is right. The private event
channel of an owner is ``owner:{owner_id}``; :func:`can_subscribe` / :func:`authorize_channels`
are what the SSE and WebSocket endpoints call before subscribing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
from aiohttp import web

from . import keys
from .errors import Conflict, Forbidden, Unauthorized
from .listener_queries import Listener, listener_by_token, lock_owner_shared

# recognisable in logs and by secret scanners; tells device tokens from the admin's
TOKEN_PREFIX = "rmd_"  # noqa: S105 (a prefix, not a secret)
PRIVATE_CHANNEL_PREFIX = "owner:"
# no 0/O, 1/I/L: read aloud or copied from one screen to another without doubt
PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PAIRING_CODE_LENGTH = 8
# EventSource and browser WebSockets cannot send headers: those clients pass the token in the query
ACCESS_QUERY_PARAM = "access_token"


def new_device_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    # surrogatepass: a header with bytes that are not UTF-8 is an unknown token, not a crash
    return hashlib.sha256(token.encode(errors="surrogatepass")).digest()


def new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


def normalize_pairing_code(raw: str) -> str | None:
    """As typed by a person (any case, spaces or dashes) → the code, or None if it cannot be one."""
    code = "".join(raw.split()).replace("-", "").upper()
    if len(code) != PAIRING_CODE_LENGTH or any(c not in PAIRING_ALPHABET for c in code):
        return None
    return code


def pairing_code_hash(code: str) -> bytes:
    return hashlib.sha256(b"pairing:" + code.encode()).digest()


def owner_channel(owner_id: UUID) -> str:
    return f"{PRIVATE_CHANNEL_PREFIX}{owner_id}"


def _presented_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get(ACCESS_QUERY_PARAM) or None


def _invalid_token() -> Unauthorized:
    return Unauthorized(
        "This device token is unknown or revoked; register the device again with POST /api/v1/devices.",
        headers={"WWW-Authenticate": 'Bearer realm="robian-media", error="invalid_token"'},
    )


async def _listener(request: web.Request, token: str) -> Listener | None:
    async with request.app[keys.DB_POOL].acquire() as conn:
        return await listener_by_token(conn, token_hash(token))


async def authenticate(request: web.Request) -> Listener:
    """The device behind ``Authorization: Bearer <device token>``, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "This route needs a device token: Authorization: Bearer <token> "
            "(POST /api/v1/devices gives one).",
            headers={"WWW-Authenticate": 'Bearer realm="robian-media"'},
        )
    listener = await _listener(request, token.strip())
    if listener is None:
        raise _invalid_token()
    return listener


async def listener_from_request(request: web.Request) -> Listener | None:
    """For event endpoints: the device token in the Authorization header or ``?access_token=``.

    None when no device token is presented (other bearer tokens, e.g. the admin's, are not device
    tokens); 401 when a device token is presented but unknown or revoked.
    """
    token = _presented_token(request)
    if token is None or not token.startswith(TOKEN_PREFIX):
        return None
    listener = await _listener(request, token)
    if listener is None:
        raise _invalid_token()
    return listener


def can_subscribe(listener: Listener | None, channel: str) -> bool:
    """Public channels are open to all; ``owner:{id}`` only to that owner's devices."""
    if not channel.startswith(PRIVATE_CHANNEL_PREFIX):
        return True
    return listener is not None and channel == owner_channel(listener.owner_id)


async def authorize_channels(request: web.Request, channels: Iterable[str]) -> Listener | None:
    """Check every requested channel against the request's device token before subscribing.

    401 when a private channel is asked for without a valid device token, 403 when the token
    belongs to another owner.
    """
    listener = await listener_from_request(request)
    refused = sorted(c for c in channels if not can_subscribe(listener, c))
    if refused and listener is None:
        raise Unauthorized(
            f"Private channels need this owner's device token: {', '.join(refused)}.",
            headers={"WWW-Authenticate": 'Bearer realm="robian-media"'},
        )
    if refused:
        raise Forbidden(f"This device may not listen to: {', '.join(refused)}.")
    return listener


@asynccontextmanager
async def owner_transaction(request: web.Request, listener: Listener) -> AsyncIterator[asyncpg.Connection]:
    """A transaction writing the owner's data, holding the owner so a pairing merge cannot interleave.

    409 when the owner was merged into another by a pairing since the token was checked, or when a
    row the write refers to vanished meanwhile: retrying the request then does the right thing.
    """
    async with request.app[keys.DB_POOL].acquire() as conn:
        try:
            async with conn.transaction():
                if not await lock_owner_shared(conn, listener.owner_id):
                    raise Conflict("This device was just paired with another account; retry the request.")
                yield conn
        except asyncpg.ForeignKeyViolationError:
            raise Conflict("Something this request refers to was removed meanwhile; retry.") from None

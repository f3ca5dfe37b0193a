"""Tighter limits on the listener routes an attacker would hammer: device registration and pairing.

The same sliding-window :class:`~robian_media.web.rate_limit.RateLimiter` as the API-wide limit (shared
through Redis, per node without it, client address read past trusted proxies), one per limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from ..ops.background import running
from ..settings import Settings
from ..web import keys
from ..web.client_address import client_key
from ..web.errors import TooManyRequests
from ..web.rate_limit import RateLimiter, sync_forever
from .keys import LISTENER_LIMITS

REGISTRATION_WINDOW_S = 3600


class ListenerLimits:
    def __init__(self, settings: Settings, redis: Redis | None) -> None:
        def limiter(limit: int, window_s: int) -> RateLimiter:
            return RateLimiter(
                limit=limit,
                window_s=window_s,
                redis=redis,
                prefix=settings.redis_prefix,
            )

        self.registrations = limiter(settings.device_registrations_per_address, REGISTRATION_WINDOW_S)
        self.pairing_by_device = limiter(
            settings.pairing_attempts_per_device, settings.pairing_attempt_window_seconds
        )
        self.pairing_by_address = limiter(
            settings.pairing_attempts_per_address, settings.pairing_attempt_window_seconds
        )

    def check_registration(self, request: web.Request) -> None:
        address = client_key(request)
        _enforce(self.registrations, f"register:{address}", "device registrations from your address")

    def check_pairing(self, request: web.Request, device_id: object) -> None:
        """Every redemption attempt counts, right or wrong: guessing codes is what this stops."""
        _enforce(self.pairing_by_device, f"pair-device:{device_id}", "pairing attempts from this device")
        address = client_key(request)
        _enforce(self.pairing_by_address, f"pair-address:{address}", "pairing attempts from your address")

    async def sync(self) -> None:
        for limiter in (self.registrations, self.pairing_by_device, self.pairing_by_address):
            await limiter.sync()


def _enforce(limiter: RateLimiter, key: str, what: str) -> None:
    retry_after = limiter.hit(key)
    if retry_after is not None:
        raise TooManyRequests(
            f"Too many {what}; retry in {retry_after} s.", headers={"Retry-After": str(retry_after)}
        )


async def listener_limits_ctx(app: web.Application) -> AsyncIterator[None]:
    limits = ListenerLimits(app[keys.SETTINGS], app.get(keys.REDIS))
    app[LISTENER_LIMITS] = limits
    async with running(sync_forever(limits.sync), "listener-limits-sync"):
        yield

"""Request bodies trickled in (slow loris) end in a 408 instead of holding a connection.

Without nginx in front nothing else bounds how long a body may take: a client sending a byte now
and then would keep a connection and a handler forever. A body gets ``request_body_grace_seconds``,
then must keep up an average of ``request_body_min_bytes_per_second``. Bodies are small here
(``max_body_bytes``), so the middleware reads each one whole before the handler runs (handlers read
it from aiohttp's copy). Requests without a body — SSE, WebSocket upgrades, downloads — pass as they are.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from .errors import RequestTimeout


async def read_body_at_minimum_rate(request: web.Request, grace: float, min_rate: int) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    reading = asyncio.ensure_future(request.read())
    try:
        while True:
            # each byte received buys 1/min_rate more seconds
            remaining = started + grace + request.content.total_bytes / min_rate - loop.time()
            if remaining <= 0:
                raise RequestTimeout(
                    f"The request body arrived too slowly (under {min_rate} bytes per second).",
                    headers={"Connection": "close"},
                )
            done, _ = await asyncio.wait({reading}, timeout=remaining)
            if done:
                await reading
                return
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading

"""What every request goes through around its handler, in one middleware.

In order: counted in the HTTP metrics (route, status, latency), any exception rendered as
problem+json (``errors.problem_for``), a CORS preflight answered (``http_policy``), a forwarding
header from an untrusted peer reported once (``client_address``), a request body read at a minimum
rate (``slow_bodies``), the client's rate limit counted (``rate_limit``: unknown paths too, so a
flood of them is limited), then a path that matches no route is redirected without its trailing
slash (aiohttp's ``normalize_path_middleware``, only for such paths) and any other goes to its
handler. Each step lives with its concern; this module only runs them.

One middleware rather than one per step: aiohttp wraps every middleware around the next in a
coroutine of its own, and on a small cached answer those layers cost more than the steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_urldispatcher import SystemRoute

from ..ops.http_metrics import HttpMetrics, route_label
from . import keys
from .client_address import ClientAddresses
from .errors import problem_for
from .http_policy import HttpPolicy
from .rate_limit import limit_rate
from .slow_bodies import read_body_at_minimum_rate

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RequestPipeline:
    def __init__(self, app: web.Application, policy: HttpPolicy) -> None:
        self._app = app
        self._policy = policy
        # `/api/debats/`, `/health/`…: the old backend (FastAPI) redirected (307) to the path without
        # the slash, and old clients and scripts rely on it; only paths that match no route get here
        self._normalize = web.normalize_path_middleware(
            append_slash=False,
            remove_slash=True,
            merge_slashes=False,
            redirect_class=web.HTTPTemporaryRedirect,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        app = self._app
        metrics: HttpMetrics = app[keys.HTTP_METRICS]
        started = time.perf_counter()
        status = 500
        metrics.in_flight_now += 1
        try:
            try:
                response: web.StreamResponse
                preflight = self._policy.preflight(request)
                if preflight is not None:
                    response = preflight
                else:
                    addresses: ClientAddresses = app[keys.CLIENT_ADDRESSES]
                    if not addresses.warned_untrusted_forwarding:
                        addresses.check_forwarding(request)
                    if request.body_exists:
                        settings = app[keys.SETTINGS]
                        grace = settings.request_body_grace_seconds
                        await read_body_at_minimum_rate(
                            request, grace, settings.request_body_min_bytes_per_second
                        )
                    limiter = app.get(keys.RATE_LIMITER)
                    if limiter is not None:
                        limit_rate(request, limiter)
                    if isinstance(request.match_info.route, SystemRoute):
                        response = await self._normalize(request, handler)
                    else:
                        response = await handler(request)
            except (asyncio.CancelledError, ConnectionResetError):
                raise
            except Exception as exc:
                response = problem_for(request, exc)
            status = response.status
            return response
        except web.HTTPException as exc:  # a redirect, raised again by problem_for
            status = exc.status
            raise
        finally:
            metrics.in_flight_now -= 1
            metrics.observe(request.method, route_label(request), status, time.perf_counter() - started)

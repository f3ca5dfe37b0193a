"""CORS for the API and security headers on every answer.

Headers are added in ``on_response_prepare`` so that streamed answers (SSE, files, WebSocket
upgrades) get them too; preflight requests are answered by a middleware before any handler.
``/hls/`` keeps the headers of ``handlers/media.py`` (CORS ``*`` for players).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import Forbidden

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, If-None-Match, If-Match, Last-Event-ID, Range"
EXPOSE_HEADERS = "ETag, Retry-After, Content-Disposition, Content-Range, Accept-Ranges, Location"
PREFLIGHT_MAX_AGE = "86400"

COMMON = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]
# JSON answers embed nothing and are never framed
API_SECURITY = [
    *COMMON,
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]
# Swagger UI runs its own scripts and styles: only forbid framing
DOCS_SECURITY = [*COMMON, ("X-Frame-Options", "DENY"), ("Content-Security-Policy", "frame-ancestors 'none'")]


class HttpPolicy:
    def __init__(self, cors_origins: list[str]) -> None:
        self.any_origin = "*" in cors_origins
        self.origins = frozenset(o.rstrip("/") for o in cors_origins if o != "*")

    def allowed_origin(self, origin: str | None) -> str | None:
        if self.any_origin:
            return "*"
        if origin is not None and origin.lower() in self.origins:
            return origin
        return None

    def _cors(self, request: web.Request) -> list[tuple[str, str]]:
        headers = [("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
        if not self.any_origin:
            headers.append(("Vary", "Origin"))  # the answer depends on who asks
        allowed = self.allowed_origin(request.headers.get("Origin"))
        if allowed is not None:
            headers.append(("Access-Control-Allow-Origin", allowed))
        return headers

    @web.middleware
    async def preflight_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.method != "OPTIONS"
            or "Access-Control-Request-Method" not in request.headers
            or request.path.startswith("/hls/")
        ):
            return await handler(request)
        if self.allowed_origin(request.headers.get("Origin")) is None:
            raise Forbidden("This origin may not call the API from a browser (ROBIAN_CORS_ORIGINS).")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            },
        )

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        path = request.path
        if path.startswith("/hls/"):
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return
        headers = response.headers
        headers.extend(DOCS_SECURITY if path.startswith("/api/docs") else API_SECURITY)
        headers.extend(self._cors(request))


def setup_http_policy(app: web.Application, cors_origins: list[str]) -> HttpPolicy:
    policy = HttpPolicy(cors_origins)
    app.on_response_prepare.append(policy.on_response_prepare)
    return policy

"""CORS for the API and security headers on every answer.

Headers are added in ``on_response_prepare`` so that streamed answers (SSE, files, WebSocket
upgrades) get them too; preflight requests are answered before any handler
(``HttpPolicy.preflight``, called by the request middleware of ``web/pipeline.py``).
``/hls/`` gets the headers of ``media/serving.py`` (CORS ``*`` for players, errors included). The
listener page (``/`` and ``/static/``) gets a policy of its own: its scripts and styles from this
origin only, media and playlists from here or the public media origin (hls.js feeds the ``<audio>``
a ``blob:`` URL).
"""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from ..media.serving import hls_answer_headers
from . import api_docs
from .errors import Forbidden

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, If-None-Match, If-Match, Last-Event-ID, Range"
EXPOSE_HEADERS = "ETag, Retry-After, Content-Disposition, Content-Range, Accept-Ranges, Location"
PREFLIGHT_MAX_AGE = "86400"
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": ALLOW_METHODS,
    "Access-Control-Allow-Headers": ALLOW_HEADERS,
    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
}

COMMON = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]
# JSON answers embed nothing and are never framed
API_SECURITY = [
    *COMMON,
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]
# Swagger UI runs its own scripts and styles: only forbid framing
DOCS_SECURITY = [
    *COMMON,
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", api_docs.CONTENT_SECURITY_POLICY),
]
PAGE_PATH = "/"
PAGE_STATIC_PREFIX = "/static/"


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, as a CSP source (the public base URL may carry a path)."""
    return str(URL(url).origin())


def page_security(media_origin: str | None) -> list[tuple[str, str]]:
    media = f"'self' {media_origin}" if media_origin else "'self'"
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"media-src {media} blob: data:; connect-src {media}; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    return [*COMMON, ("X-Frame-Options", "DENY"), ("Content-Security-Policy", csp)]


class HttpPolicy:
    def __init__(self, cors_origins: list[str], media_origin: str | None = None) -> None:
        self.any_origin = "*" in cors_origins
        self.origins = frozenset(o.rstrip("/") for o in cors_origins if o != "*")
        # every answer gets the same list, extended once: built here, not per request
        cors = [("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
        cors.append(("Access-Control-Allow-Origin", "*") if self.any_origin else ("Vary", "Origin"))
        self._api_headers = API_SECURITY + cors
        self._docs_headers = DOCS_SECURITY + cors
        self._page_headers = page_security(media_origin)

    def allowed_origin(self, origin: str | None) -> str | None:
        if self.any_origin:
            return "*"
        if origin is not None and origin.lower() in self.origins:
            return origin
        return None

    def preflight(self, request: web.Request) -> web.Response | None:
        """The answer to a CORS preflight request (None: not one); an origin not allowed is a 403."""
        if (
            request.method != "OPTIONS"
            or "Access-Control-Request-Method" not in request.headers
            or request.path.startswith("/hls/")
        ):
            return None
        if self.allowed_origin(request.headers.get("Origin")) is None:
            raise Forbidden("This origin may not call the API from a browser (ROBIAN_CORS_ORIGINS).")
        return web.Response(status=204, headers=PREFLIGHT_HEADERS)

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        path = request.path
        if path.startswith("/hls/"):
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            hls_answer_headers(response)
            return
        headers = response.headers
        if path == PAGE_PATH or path.startswith(PAGE_STATIC_PREFIX):
            headers.extend(self._page_headers)
            return
        headers.extend(self._docs_headers if path.startswith("/api/docs") else self._api_headers)
        if not self.any_origin:
            allowed = self.allowed_origin(request.headers.get("Origin"))
            if allowed is not None:
                headers["Access-Control-Allow-Origin"] = allowed


def setup_http_policy(
    app: web.Application, cors_origins: list[str], media_origin: str | None = None
) -> HttpPolicy:
    policy = HttpPolicy(cors_origins, media_origin)
    app.on_response_prepare.append(policy.on_response_prepare)
    return policy

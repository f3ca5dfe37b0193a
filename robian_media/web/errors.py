"""Domain errors, and every error rendered as RFC 9457 problem+json (``problem_for``, called by the
request middleware of ``web/pipeline.py``)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from ..db.unavailable import RETRY_AFTER_S, database_unavailable

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://robian-media.org/problems/"


class Problem(Exception):
    """An error a client can act on; handlers raise these, the middleware formats them."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})


class BadRequest(Problem):
    pass


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class RequestTimeout(Problem):
    status, title, slug = 408, "Request timeout", "request-timeout"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UpgradeRequired(Problem):
    status, title, slug = 426, "Upgrade required", "upgrade-required"


class ValidationFailed(Problem):
    status, title, slug = 422, "Validation failed", "validation-failed"


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str,
    slug: str,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = list(errors)
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


# aiohttp's own HTTP errors (unknown route, wrong method, body too large) in words a client can use
_HTTP_DETAILS = {
    404: "No resource at this path.",
    405: "This method is not allowed here; see the Allow header.",
    413: "The request body is larger than this server accepts.",
}

_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Location")


def problem_for(request: web.Request, exc: Exception) -> web.Response:
    """The problem+json answer to an exception a handler raised (``request.path`` is its instance).

    Redirects and other HTTP exceptions below 400 are not errors: they are raised again.
    """
    instance = request.path
    if isinstance(exc, Problem):
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            instance=instance,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
        )
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        headers = {k: v for k, v in exc.headers.items() if k in _KEPT_HEADERS}
        detail = _HTTP_DETAILS.get(exc.status) or exc.reason
        slug = exc.reason.lower().replace(" ", "-")
        return problem_response(exc.status, exc.reason, detail, instance=instance, slug=slug, headers=headers)
    if database_unavailable(exc):
        log.warning("database unavailable", extra={"path": request.path, "error": type(exc).__name__})
        return problem_response(
            503,
            "Service unavailable",
            "The database cannot be reached right now; retry in a few seconds.",
            instance=instance,
            slug="service-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled error", extra={"incident": incident, "path": request.path}, exc_info=exc)
    return problem_response(
        500,
        "Internal server error",
        f"The server failed to answer this request; incident {incident} is logged.",
        instance=instance,
        slug="internal",
    )

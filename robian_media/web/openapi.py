"""Edge validation with pydantic and the OpenAPI (Swagger 2.0) document built by aiohttp-apispec.

Handlers are declared with :func:`operation`: it validates the query string and JSON body into
pydantic models (handlers receive typed values), checks the admin token where asked, and records
the operation for the spec. Pydantic models become Swagger ``definitions``.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from aiohttp import web
from aiohttp_apispec import AiohttpApiSpec
from aiohttp_apispec.utils import get_path_keys
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..db.stored_text import unstorable_query, unstorable_strings
from . import keys
from .device_auth import authenticate
from .errors import PROBLEM_CONTENT_TYPE, BadRequest, PayloadTooLarge, Unauthorized, ValidationFailed
from .query_params import QueryModel

REF_TEMPLATE = "#/definitions/{model}"
Handler = Callable[..., Awaitable[web.StreamResponse]]
SPEC_ATTR = "__apispec__"
TYPES_ATTR = "__robian_types__"

M = TypeVar("M", bound=BaseModel)

PROBLEM_RESPONSE = {"description": "RFC 9457 problem", "schema": {"$ref": "#/definitions/Problem"}}


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


def _errors(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    return [
        {
            "location": ".".join([where, *(str(part) for part in err["loc"])]),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


# validated queries by (model, raw query string): a QueryModel (frozen, no defaults taken from the
# clock) is a pure function of its query string, so a repeated query is not validated again
PARSED_QUERIES_MAX = 4096
_parsed_queries: OrderedDict[tuple[type[BaseModel], str], BaseModel] = OrderedDict()


def parse_query(request: web.Request, model: type[M]) -> M:
    if not issubclass(model, QueryModel):
        return _parse_query(request, model)
    key = (model, request.rel_url.raw_query_string)
    parsed = _parsed_queries.get(key)
    if parsed is not None:
        _parsed_queries.move_to_end(key)
        return cast(M, parsed)
    parsed = _parse_query(request, model)
    _parsed_queries[key] = parsed
    if len(_parsed_queries) > PARSED_QUERIES_MAX:
        _parsed_queries.popitem(last=False)
    return parsed


def _parse_query(request: web.Request, model: type[M]) -> M:
    raw = {name: request.query.getone(name) for name in request.query}
    bad = unstorable_query(raw)
    if bad:
        raise ValidationFailed("Some query parameters are invalid.", errors=bad)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed("Some query parameters are invalid.", errors=_errors(exc, "query")) from None


# no body of ours nests deeper than a few levels; the checks after parsing recurse
MAX_JSON_DEPTH = 32


def nesting(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON document (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep() -> ValidationFailed:
    return ValidationFailed(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")


async def parse_body(request: web.Request, model: type[M]) -> M:
    if (
        request.content_length is not None
        and request.content_length > request.app[keys.SETTINGS].max_body_bytes
    ):
        raise PayloadTooLarge("The request body is larger than this server accepts.")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge("The request body is larger than this server accepts.") from None
    if request.content_type not in ("application/json", "application/octet-stream", "") and raw:
        raise BadRequest(f"Send the body as application/json, not {request.content_type}.")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise _too_deep() from None
    if nesting(data) > MAX_JSON_DEPTH:
        raise _too_deep()
    bad = unstorable_strings(data, "body")
    if bad:
        raise ValidationFailed("The request body is invalid.", errors=bad)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request body is invalid.", errors=_errors(exc, "body")) from None


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _is_admin_token(request: web.Request, token: str) -> bool:
    # constant time; surrogatepass: header bytes that are not UTF-8 are a wrong token, not a crash
    expected = request.app[keys.ADMIN_TOKEN]
    return hmac.compare_digest(token.strip().encode(errors="surrogatepass"), expected.encode())


def is_admin(request: web.Request) -> bool:
    """Whether the request carries the admin token (for routes that show operators more)."""
    token = _bearer(request)
    return token is not None and _is_admin_token(request, token)


def check_admin(request: web.Request) -> None:
    token = _bearer(request)
    if token is None:
        raise Unauthorized(
            "This route needs the admin token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="robian-media"'},
        )
    if not _is_admin_token(request, token):
        raise Unauthorized(
            "The admin token is not valid.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )


def operation(
    *,
    summary: str,
    tags: list[str],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    admin: bool = False,
    device: bool = False,
    produces: list[str] | None = None,
    responses: dict[int, str] | None = None,
    description: str | None = None,
) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Declare a route: typed inputs, admin or device check, and its OpenAPI operation.

    With ``device=True`` the handler also receives ``listener=`` (who the device token speaks for).
    """

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if admin:
                check_admin(request)
            kwargs: dict[str, Any] = {}
            if device:
                kwargs["listener"] = await authenticate(request)
            if query is not None:
                kwargs["query"] = parse_query(request, query)
            if body is not None:
                kwargs["body"] = await parse_body(request, body)
            response = await handler(request, **kwargs)
            if device:
                # one account's data: no shared cache (edge, CDN) may keep it
                response.headers.setdefault("Cache-Control", "private, no-store")
            return response

        op_responses: dict[str, Any] = {str(status): {"description": "Success"}}
        if response is not None:
            op_responses[str(status)]["x-robian-type"] = response
        errors = {400: "Bad request", 404: "Not found", 422: "Validation failed", **(responses or {})}
        if admin:
            errors[401] = "Missing or invalid admin token"
        if device:
            errors[401] = "Missing, unknown or revoked device token"
        for code, text in errors.items():
            op_responses[str(code)] = {**PROBLEM_RESPONSE, "description": text}
        op: dict[str, Any] = {
            "summary": summary,
            "tags": tags,
            # every operation may answer a problem (RFC 9457) instead of its success type
            "produces": [*(produces or ["application/json"]), PROBLEM_CONTENT_TYPE],
            "responses": op_responses,
            "parameters": [],
        }
        if description:
            op["description"] = description
        if admin:
            op["security"] = [{"adminToken": []}]
        if device:
            op["security"] = [{"deviceToken": []}]
        setattr(wrapper, SPEC_ATTR, op)
        setattr(wrapper, TYPES_ATTR, {"query": query, "body": body})
        return wrapper

    return decorate


def _swagger2(node: Any) -> Any:
    """JSON Schema 2020 (pydantic) → the Swagger 2.0 subset."""
    if isinstance(node, list):
        return [_swagger2(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _swagger2(v) for k, v in node.items() if k not in ("$defs",)}
    for combiner in ("anyOf", "oneOf"):
        options = node.get(combiner)
        if options and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(combiner)
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node[combiner] = rest
            node["x-nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[plain] = node[bound]
            node[bound] = True
    if node.get("default") is None and "default" in node:
        node.pop("default")
    return node


def _schema(tp: Any, mode: str, definitions: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(tp).json_schema(ref_template=REF_TEMPLATE, mode=mode)  # type: ignore[arg-type]
    for name, definition in schema.pop("$defs", {}).items():
        definitions[name] = _swagger2(definition)
    if "title" in schema and "properties" in schema and isinstance(tp, type) and issubclass(tp, BaseModel):
        definitions[tp.__name__] = _swagger2(schema)
        return {"$ref": REF_TEMPLATE.format(model=tp.__name__)}
    return dict(_swagger2(schema))


def _query_parameters(model: type[BaseModel], definitions: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _swagger2(model.model_json_schema(ref_template=REF_TEMPLATE))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        prop.pop("x-nullable", None)
        if "$ref" in prop:
            prop = definitions.get(prop["$ref"].rsplit("/", 1)[-1], {"type": "string"})
        param = {"in": "query", "name": name, "required": name in required, **prop}
        if name not in required:
            param["allowEmptyValue"] = True  # a blank optional parameter counts as absent
        params.append(param)
    return params


class ApiSpec(AiohttpApiSpec):
    """aiohttp-apispec's spec and Swagger UI, fed with pydantic-described operations."""

    def _update_paths(self, data: dict[str, Any], method: str, url_path: str) -> None:
        data = dict(data)
        definitions: dict[str, Any] = {
            "Problem": _swagger2(Problem.model_json_schema(ref_template=REF_TEMPLATE))
        }
        types = data.pop("x-robian-types", {})
        params = list(data.get("parameters", []))
        if types.get("query") is not None:
            params.extend(_query_parameters(types["query"], definitions))
        if types.get("body") is not None:
            body_schema = _schema(types["body"], "validation", definitions)
            params.append({"in": "body", "name": "body", "required": True, "schema": body_schema})
            data["consumes"] = ["application/json"]
        params.extend(
            {"in": "path", "name": key, "required": True, "type": "string"} for key in get_path_keys(url_path)
        )
        data["parameters"] = params
        responses = {}
        for code, resp in data.get("responses", {}).items():
            resp = dict(resp)
            tp = resp.pop("x-robian-type", None)
            if tp is not None:
                resp["schema"] = _schema(tp, "serialization", definitions)
            responses[code] = resp
        data["responses"] = responses
        for name, definition in definitions.items():
            if name not in self.spec.components._schemas:
                self.spec.components.schema(name, definition)
        self.spec.path(path=url_path, operations={method: data})

    def _register_route(self, route: web.AbstractRoute, method: str, view: Any) -> None:
        if not hasattr(view, SPEC_ATTR):
            return
        op = dict(getattr(view, SPEC_ATTR))
        op["x-robian-types"] = getattr(view, TYPES_ATTR, {})
        info = route.get_info()
        url_path = info.get("path") or info.get("formatter")
        if url_path and method in ("get", "post", "put", "patch", "delete"):
            self._update_paths(op, method, url_path)


def setup_openapi(app: web.Application) -> None:
    ApiSpec(
        app=app,
        title="robian-media API",
        version="1",
        url="/api/docs/swagger.json",
        # not aiohttp-apispec's page (Swagger UI 4.1.0, CVE-2018-25031): ours, api_docs.py
        swagger_path=None,
        securityDefinitions={
            "adminToken": {"type": "apiKey", "in": "header", "name": "Authorization"},
            "deviceToken": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "Bearer <device token> from POST /api/v1/devices (stored hashed, revocable)",
            },
        },
        info={"description": "HLS audio of parliamentary debates: metadata, ingest, live events."},
    )

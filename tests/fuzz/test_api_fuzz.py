"""Property-based fuzzing of every documented operation, driven by our own Swagger spec (schemathesis).

Against a real server process (PostgreSQL, Redis): admin operations get the admin token, device
operations a fresh device token. Three passes per operation: data that fits the schema, data that
does not, and data that fits with the path pointing at real rows (a published debate with chapters,
its speaker, its job). Every answer must be below 500 and conform to its documented status,
content type and schema; every 4xx must be problem+json. ``ROBIAN_FUZZ_EXAMPLES`` sets the examples
per operation and pass (CI: a few; ``make fuzz``: many).
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import content_type_conformance, positive_data_acceptance

from tests.conftest import ADMIN_TOKEN
from tests.services import ServerProcess

EXAMPLES = int(os.environ.get("ROBIAN_FUZZ_EXAMPLES", "10"))
# aiohttp's limit on the request line (max_line_size)
MAX_REQUEST_LINE = 8190
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Tokens:
    """The admin token, and a device token shared until an operation may revoke it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._device: str | None = None

    def headers(self, case: Any, session: requests.Session) -> dict[str, str]:
        security = case.operation.definition.raw.get("security") or []
        schemes = {name for requirement in security for name in requirement}
        headers_mutated = case.meta is not None and any(
            location == ParameterLocation.HEADER and info.mode.is_negative
            for location, info in case.meta.components.items()
        )
        if headers_mutated:
            return {}  # this case is about a missing or broken Authorization header: it must be a 401
        if "adminToken" in schemes:
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if "deviceToken" not in schemes:
            return {}
        revoking = case.method == "DELETE" and case.operation.path.startswith("/api/v1/devices/")
        if self._device is None or revoking:
            response = session.post(f"{self.base_url}/api/v1/devices", json={})
            assert response.status_code == 201, response.text
            self._device = response.json()["token"]
        token = self._device
        if revoking:
            self._device = None
        return {"Authorization": f"Bearer {token}"}


@schemathesis.check
def problem_json_for_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every client error is RFC 9457 problem+json with its fields."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type") or [""]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered as {content_type!r}: {response.text[:200]}"
    )
    body = response.json()
    missing = [f for f in ("type", "title", "status", "detail", "instance") if f not in body]
    assert not missing, f"problem without {missing}: {body}"
    assert body["status"] == response.status_code
    return True


def known_path_parameters(operation: Any, rows: dict[str, str]) -> dict[str, str] | None:
    names = [p["name"] for p in operation.definition.raw.get("parameters", []) if p.get("in") == "path"]
    if operation.path.startswith("/api/v1/speakers/"):
        rows = {**rows, "id": rows["speaker_id"]}
    if not names or any(name not in rows for name in names):
        return None
    return {name: rows[name] for name in names}


def fuzz(
    operation: Any, mode: GenerationMode, path_parameters: dict[str, str] | None, tokens: Tokens
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @SETTINGS
    @given(case=strategy)
    def run(case: Any) -> None:
        with requests.Session() as session:
            headers = tokens.headers(case, session)
            response = case.call(tokens.base_url, session=session, headers=headers, timeout=30)
            if response.status_code == 400 and len(response.request.url) > MAX_REQUEST_LINE:
                return  # aiohttp's HTTP parser refuses it before any route (nginx in front: 414)
            excluded = []
            if case.operation.path == "/ws":
                # Swagger 2.0 cannot describe a WebSocket handshake: /ws answers a plain GET with
                # its documented 426 (tests/events covers the protocol)
                excluded.append(positive_data_acceptance)
            if response.status_code == 204:
                excluded.append(content_type_conformance)  # no body, so no Content-Type
            case.validate_response(response, headers=headers, excluded_checks=excluded)

    run()


def test_every_documented_operation_answers_as_documented(
    api_schema: Any, seeded_rows: dict[str, str], fuzz_server: ServerProcess
) -> None:
    failures: list[str] = []
    tokens = Tokens(fuzz_server.url)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        passes: list[tuple[GenerationMode, dict[str, str] | None]] = [
            (GenerationMode.POSITIVE, None),
            (GenerationMode.NEGATIVE, None),
        ]
        known = known_path_parameters(operation, seeded_rows)
        if known is not None:
            passes.append((GenerationMode.POSITIVE, known))
        for mode, path_parameters in passes:
            try:
                fuzz(operation, mode, path_parameters, tokens)
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (no parameters, plain strings)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports a group of failures
                where = " (real rows)" if path_parameters else ""
                failures.append(f"{operation.label} [{mode.value}{where}]: {exc}")
    assert not failures, "\n\n".join(failures)

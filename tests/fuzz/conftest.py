"""A real server process (PostgreSQL, Redis, no worker) for the property-based API fuzzing."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.conftest import ADMIN_TOKEN, RUN_ID
from tests.factories import connect, create_chapters, create_debate, create_job, create_speaker
from tests.services import ServerProcess, server_env


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str
) -> Iterator[ServerProcess]:
    work: Path = tmp_path_factory.mktemp("fuzz")
    env = server_env(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"robian-test:{RUN_ID}:fuzz-{uuid.uuid4().hex[:6]}:",
        data_dir=str(work / "data"),
        admin_token=ADMIN_TOKEN,
        # ingest checks stop at the allowlist (no DNS for made-up hosts); 127.0.0.1 sources queue jobs
        ingest_allowlist="127.0.0.1",
        ingest_allow_private="true",
        workers="0",
        rate_limit_per_minute="0",
        device_registrations_per_address="1000000",
        pairing_attempts_per_address="1000000",
        pairing_attempts_per_device="1000000",
        log_level=os.environ.get("ROBIAN_FUZZ_LOG_LEVEL", "WARNING"),
    )
    server = ServerProcess(env, work / "server.log").start()
    yield server
    code = server.stop()
    assert code == 0, server.output()[-3000:]


ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerProcess) -> Any:
    """Our Swagger 2.0 document as the running server publishes it."""
    config = SchemathesisConfig.from_dict(
        # a documented 422 answers well-formed input the server refuses on its merits (a source
        # outside the allowlist, a date range backwards): the schema cannot say that
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            # unknown query parameters (cache busters) are ignored by design, not refused
            "generation": {"allow-extra-parameters": False},
        }
    )
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/api/docs/swagger.json", config=config)


@pytest.fixture(scope="module")
def seeded_rows(database_url: str) -> dict[str, str]:
    """Real rows for path parameters: a published debate with chapters, its speaker, its job."""

    async def seed() -> dict[str, str]:
        conn = await connect(database_url)
        try:
            speaker_id = f"PA{uuid.uuid4().int % 10**6}"
            await create_speaker(conn, "Amélie <b>de</b> Montchalin", speaker_id=speaker_id)
            debate_id = await create_debate(conn, title="Séance « fuzz » <script>alert(1)</script>")
            await create_chapters(
                conn,
                debate_id,
                [
                    {
                        "start": 0.0,
                        "end": 60.0,
                        "speaker_id": speaker_id,
                        "speaker_name": "Amélie de Montchalin",
                    },
                    {"start": 60.0, "end": 120.0, "speaker_name": "Le président"},
                ],
            )
            job_id = await create_job(conn, debate_id, status="succeeded", stage="publishing", progress=1.0)
        finally:
            await conn.close()
        return {
            "id": str(debate_id),
            "debate_id": str(debate_id),
            "job_id": str(job_id),
            "speaker_id": speaker_id,
        }

    rows = asyncio.run(seed())
    return rows

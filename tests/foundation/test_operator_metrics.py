"""What an operator reads on an API node's /metrics: cache hits, queue depth, requests by route."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


async def samples(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }


async def test_repeated_questions_are_counted_as_cache_hits(client: Any) -> None:
    for _ in range(3):
        assert (await client.get("/api/v1/debates?chamber=cache-metrics-test")).status == 200
    seen = await samples(client)
    lookups = {
        dict(labels)["result"]: value
        for (name, labels), value in seen.items()
        if name == "robian_response_cache_lookups_total" and dict(labels)["namespace"] == "debates"
    }
    assert lookups["built"] == 1  # built once from PostgreSQL
    assert lookups.get("local", 0) + lookups.get("shared", 0) == 2
    key = ("robian_http_requests_total", (("method", "GET"), ("route", "/api/v1/debates"), ("status", "200")))
    assert seen[key] == 3


async def test_queue_depth_is_read_from_the_database(client: Any) -> None:
    seen = await samples(client)
    assert seen[("robian_job_state_up", ())] == 1
    assert ("robian_job_queue_depth", (("queue", "ingest"), ("state", "ready"))) in seen
    assert ("robian_jobs_active", (("kind", "ingest"), ("status", "queued"))) in seen
